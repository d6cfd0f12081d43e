// Reads a fuzz input as a fixed-size settings header followed by a frame. The header is a
// fixed size, whatever the input, so that a seed is "header + a real frame" and a mutation of the
// frame never shifts the settings. Reading past the end gives zeros: every input is valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace microarp::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size, size_t header_size)
      : data_(data), size_(size), header_size_(header_size) {}

  uint8_t u8() { return at_ < header_size_ && at_ < size_ ? data_[at_++] : (at_++, 0); }
  // Big endian, as the fields it stands for are written in a frame.
  uint16_t u16() {
    const uint16_t hi = u8();
    return static_cast<uint16_t>(hi << 8 | u8());
  }
  uint32_t u32() {
    const uint32_t hi = u16();
    return hi << 16 | u16();
  }
  void bytes(uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = u8();
  }

  // What follows the header: the frame.
  const uint8_t* frame() const { return data_ + (size_ < header_size_ ? size_ : header_size_); }
  size_t frame_size() const { return size_ < header_size_ ? 0 : size_ - header_size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t header_size_;
  size_t at_ = 0;
};

}  // namespace microarp::fuzz
