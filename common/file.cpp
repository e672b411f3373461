#include "common/file.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>

namespace tandem {

Result<std::string, std::error_code> read_file(const std::string& path) {
  // stdio rather than iostreams: errno tells why an open or a read failed; a directory opens on
  // Linux and fails only at the first read (EISDIR).
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return std::error_code(errno != 0 ? errno : EIO, std::generic_category());
  std::string out;
  char buffer[64 * 1024];
  for (;;) {
    std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    out.append(buffer, n);
    if (n < sizeof buffer) break;
  }
  if (std::ferror(file.get())) return std::error_code(errno != 0 ? errno : EIO, std::generic_category());
  return out;
}

}  // namespace tandem
