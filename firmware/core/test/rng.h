// xorshift64*, the same generator as the protocol crate's mutation sweep (protocol/src/mutate.rs):
// the seeded mutation loops of the host tests and of the fuzz stand-in draw from it.
#pragma once

#include <stddef.h>
#include <stdint.h>

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull | 1) {}
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};
