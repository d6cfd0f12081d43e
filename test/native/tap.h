// A minimal TAP harness for the C++ unit tests: TEST registers a case, CHECK records the first
// failed condition, run_all() prints the plan and one line per case. The node:test wrappers
// (test/native_*.test.ts) turn each line into a test of its own.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace tap {

struct Case {
  const char* name;
  std::function<void()> body;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}

struct Register {
  Register(const char* name, std::function<void()> body) { cases().push_back({name, body}); }
};

inline std::string& failure() {
  static std::string first;
  return first;
}

inline int run_all() {
  int failed = 0;
  std::printf("TAP version 13\n1..%zu\n", cases().size());
  for (size_t i = 0; i < cases().size(); i++) {
    failure().clear();
    cases()[i].body();
    if (failure().empty()) {
      std::printf("ok %zu - %s\n", i + 1, cases()[i].name);
    } else {
      failed++;
      std::printf("not ok %zu - %s\n  # %s\n", i + 1, cases()[i].name, failure().c_str());
    }
    std::fflush(stdout);
  }
  return failed ? 1 : 0;
}

}  // namespace tap

#define TEST(id, name)                   \
  void id();                             \
  tap::Register reg_##id(name, id);      \
  void id()

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    if (!(cond) && tap::failure().empty())                                                 \
      tap::failure() = std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " #cond; \
  } while (0)
