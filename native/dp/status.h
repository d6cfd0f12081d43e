// Errors travel as data from the engine to the addon, which turns them into JS errors.
#pragma once

#include <string>
#include <utility>

namespace microarp {

struct Status {
  std::string code;     // stable, machine-readable: "EAL_INIT", "PORT_NOT_FOUND", ...
  std::string message;  // for a person: what failed and what to do

  bool ok() const { return code.empty(); }
  static Status success() { return Status{}; }
  static Status error(std::string code, std::string message) {
    return Status{std::move(code), std::move(message)};
  }
};

}  // namespace microarp
