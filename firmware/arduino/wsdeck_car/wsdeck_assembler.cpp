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
  // A piece of a frame split across TCP segments: it must belong to the same frame (the length the
  // first piece gave), continue exactly where the last piece ended and end within the frame. With
  // want_ <= cap_ and got_ <= want_, the copy below stays inside the buffer whatever a peer
  // claims (a later piece claiming a shorter frame than what is already assembled used to make
  // `frame_len - index` wrap and the copy overrun the buffer).
  const bool same_frame = busy_ ? (frame_len == want_ && index == got_) : index == 0;
  if (!same_frame || n > frame_len - index) {
    reset();
    return Unsupported;
  }
  if (!busy_) want_ = static_cast<size_t>(frame_len);
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
