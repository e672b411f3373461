#pragma once
// Names the calling thread, as `top -H`, `ps -L` and /proc/<pid>/task/*/comm show it. Linux keeps
// at most 15 characters; longer names are cut.

#include <string>

#include <pthread.h>

namespace tandem {

inline void set_thread_name(const std::string& name) {
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace tandem
