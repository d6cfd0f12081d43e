// A one-segment rte_mbuf without EAL or a mempool: enough for the inline rte_pktmbuf_* calls the
// worker makes on a frame (mtod, headroom, tailroom, prepend, adj). Its data buffer is a heap
// block of exactly headroom + frame + tailroom bytes, so AddressSanitizer reports any byte read
// or written past either end; the headroom is filled with a pattern, so that a write into it
// that the mbuf's own bookkeeping does not account for is seen too.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

namespace microarp::fuzz {

constexpr uint8_t kHeadroomPattern = 0xA5;

class MinimalMbuf {
 public:
  MinimalMbuf(const uint8_t* frame, uint16_t len, uint16_t headroom, uint16_t tailroom)
      : buffer_(new uint8_t[size_t(headroom) + len + tailroom]) {
    std::memset(buffer_, kHeadroomPattern, headroom);
    if (len > 0) std::memcpy(buffer_ + headroom, frame, len);
    // Tailroom holds whatever a previous frame left there.
    std::memset(buffer_ + headroom + len, 0xEE, tailroom);
    std::memset(&mbuf_, 0, sizeof mbuf_);
    mbuf_.buf_addr = buffer_;
    mbuf_.buf_len = static_cast<uint16_t>(headroom + len + tailroom);
    mbuf_.data_off = headroom;
    mbuf_.data_len = len;
    mbuf_.pkt_len = len;
    mbuf_.nb_segs = 1;
    mbuf_.next = nullptr;
    rte_mbuf_refcnt_set(&mbuf_, 1);
  }
  ~MinimalMbuf() { delete[] buffer_; }
  MinimalMbuf(const MinimalMbuf&) = delete;
  MinimalMbuf& operator=(const MinimalMbuf&) = delete;

  rte_mbuf* get() { return &mbuf_; }
  uint8_t* data() { return rte_pktmbuf_mtod(&mbuf_, uint8_t*); }
  uint16_t len() const { return mbuf_.data_len; }

  // True when the first `n` bytes of the buffer (all of the headroom by default) still hold
  // the pattern.
  bool headroom_untouched() const { return pattern_intact(mbuf_.data_off); }
  bool pattern_intact(uint16_t n) const {
    for (uint16_t i = 0; i < n; i++) {
      if (buffer_[i] != kHeadroomPattern) return false;
    }
    return true;
  }

 private:
  rte_mbuf mbuf_;
  uint8_t* buffer_;
};

}  // namespace microarp::fuzz
