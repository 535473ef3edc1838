// The libFuzzer target core_fuzz.cpp without libFuzzer: a fixed-seed mutation loop over the seed
// files in a directory (made from protocol/vectors.json by xtask), so that `cargo xtask test`
// runs the same harness under g++'s ASan and UBSan in a few seconds. Prints TAP for xtask.
//
//   standin SEED_DIR [ITERATIONS]
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../test/rng.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

std::vector<std::string> read_seeds(const char *dir) {
  std::vector<std::string> names;
  if (DIR *d = opendir(dir)) {
    while (dirent *e = readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());  // the same order on every machine
  std::vector<std::string> seeds;
  for (const std::string &name : names) {
    std::ifstream in(std::string(dir) + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    seeds.push_back(ss.str());
  }
  return seeds;
}

void run(const std::string &input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()), input.size());
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: standin SEED_DIR [ITERATIONS]\n");
    return 2;
  }
  const std::vector<std::string> seeds = read_seeds(argv[1]);
  const long iterations = argc > 2 ? atol(argv[2]) : 5000;
  if (seeds.empty()) {
    printf("not ok 1 - core fuzz stand-in: no seeds in %s\n1..1\n# pass 0\n# fail 1\n", argv[1]);
    return 1;
  }
  const char interesting[] = "{}[]\":,\\-0123456789.eE+ tfnul\x7f\x80\xbf\xc3\xed\xf4";
  const char *const tokens[] = {"{\"t\":\"stop\",\"seq\":", "{\"t\":\"drive\",\"seq\":", "\\u", "\\ud800",
                                "1e308", "1e309", "null", "9999999999999999999999", "\"blue-tiger-42\""};
  for (const std::string &seed : seeds) run(seed);
  Rng rng(20261201);
  for (long i = 0; i < iterations; i++) {
    std::string x = seeds[rng.below(seeds.size())];
    const size_t mark = x.find('\xff');
    std::string frame = x.substr(0, mark), script = mark == std::string::npos ? "" : x.substr(mark);
    for (int e = 1 + static_cast<int>(rng.below(4)); e > 0; e--) {
      switch (rng.below(6)) {
        case 0:
          if (!frame.empty()) frame[rng.below(frame.size())] = interesting[rng.below(sizeof interesting - 1)];
          break;
        case 1: frame.insert(rng.below(frame.size() + 1), tokens[rng.below(sizeof tokens / sizeof tokens[0])]); break;
        case 2:
          if (!frame.empty()) frame.erase(rng.below(frame.size()), 1 + rng.below(8));
          break;
        case 3: frame.append(rng.below(200), interesting[rng.below(sizeof interesting - 1)]); break;
        case 4: {
          // A script of random steps, mostly pieces whose lengths and indexes are near the
          // frame's (where an off-by-one or a wrap would be), some time, opens and closes.
          script = "\xff";
          for (size_t k = 1 + rng.below(8); k > 0; k--) {
            const size_t near = frame.size() + 2;
            const size_t claimed = rng.below(2) ? rng.below(near) : rng.below(0x10000);
            const char step[6] = {static_cast<char>(rng.below(3) ? 0 : rng.below(4)),
                                  static_cast<char>(rng.below(2) ? rng.below(near) : rng.next()),
                                  static_cast<char>(claimed & 0xFF),
                                  static_cast<char>(claimed >> 8),
                                  static_cast<char>(rng.below(near)),
                                  static_cast<char>(rng.below(4) ? rng.below(4) : rng.next())};
            script.append(step, sizeof step);
          }
          break;
        }
        case 5:
          if (script.size() > 1) script[1 + rng.below(script.size() - 1)] = static_cast<char>(rng.next());
          break;
      }
    }
    run(frame + script);
  }
  printf("ok 1 - core fuzz stand-in: %zu seeds and %ld mutated inputs through the assembler, the reader and "
         "two devices\n1..1\n# pass 1\n# fail 0\n",
         seeds.size(), iterations);
  return 0;
}
