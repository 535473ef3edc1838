// wsdeck_assembler: text frames put back together from the pieces AsyncWebSocket hands over one
// TCP segment at a time (Assembler, see wsdeck_core.h).
#include <string.h>

#include "wsdeck_core.h"

namespace wsdeck {

Assembler::Result Assembler::feed(uint64_t frame_len, uint64_t index, bool fin, uint32_t fragment, const char *piece,
                                  size_t n) {
  frame_ = nullptr;
  len_ = 0;
  if (!fin || fragment != 0) {
    reset();
    return Unsupported;
  }
  if (frame_len > cap_) {
    reset();
    return TooLarge;
  }
  if (index == 0 && n == frame_len) {
    // The usual case: the whole frame in one piece, read in place.
    reset();
    frame_ = piece;
    len_ = n;
    return Ready;
  }
  // A piece of a frame split across TCP segments: it must continue exactly where the last ended.
  if (index != (busy_ ? got_ : 0) || n > frame_len - index) {
    reset();
    return Unsupported;
  }
  if (n > 0) memcpy(buf_ + got_, piece, n);
  got_ += n;
  busy_ = true;
  if (got_ < frame_len) return Pending;
  frame_ = buf_;
  len_ = got_;
  got_ = 0;
  busy_ = false;
  return Ready;
}

}  // namespace wsdeck
