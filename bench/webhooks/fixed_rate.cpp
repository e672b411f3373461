// fixed_rate: open-loop (constant-rate) load generator for the webhook intake benchmark.
//
// Builds and signs every request before the run (same deliveries as signed_deliveries.lua:
// a JSON array of EVENTS contact.propertyChange events with unique eventId/objectId, signed with
// X-HubSpot-Signature-v3), then sends request i at t0 + i / RATE, round-robin over CONNECTIONS
// persistent HTTP/1.1 connections (one thread each, blocking sockets, one request in flight per
// connection). Latency runs from the request's *scheduled* time to the last byte of its response,
// so a server that falls behind the schedule shows growing latency (coordinated omission
// corrected, as in wrk2). Percentiles are exact (nearest rank over every recorded latency).
//
// Build: g++ -O2 -std=c++20 bench/webhooks/fixed_rate.cpp -lcrypto -pthread -o fixed_rate
// Usage: fixed_rate --url http://127.0.0.1:PORT/webhooks/hubspot --rate REQ_PER_S --duration SECONDS
//          [--events 1] [--connections 32] [--secret S (env SECRET)]
//          [--public-base URL (env PUBLIC_BASE_URL, https://bench.example.com)]
//          [--id-base N (default from the clock)] [--timeout SECONDS (10)] [--grace SECONDS (10)]
// Output (stdout): RESULT events=E requests=N non2xx=K socket_errors=S req_per_s=... events_per_s=...
//   p50_ms=... p99_ms=... max_ms=... target_rate=R scheduled=M unsent=U elapsed_s=...
//   requests: responses received; events_per_s counts 2xx responses only; socket_errors: connect,
//   send, receive, timeout and malformed-response failures (the request is not retried, so no
//   delivery is ever sent twice); unsent: requests still unsent GRACE seconds after the schedule
//   ended (the server was too far behind); elapsed_s: t0 to the last response.

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host;
  std::string port;
  std::string path;
  std::string public_base = "https://bench.example.com";
  std::string secret = "bench-secret";
  int events = 1;
  double rate = 0;
  double duration = 0;
  int connections = 32;
  std::optional<std::uint64_t> id_base;
  double timeout = 10;
  double grace = 10;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr,
               "fixed_rate: %s\n"
               "usage: fixed_rate --url http://HOST:PORT/PATH --rate REQ_PER_S --duration SECONDS\n"
               "         [--events N] [--connections C] [--secret S] [--public-base URL] [--id-base N]\n"
               "         [--timeout SECONDS] [--grace SECONDS]\n",
               message.c_str());
  std::exit(2);
}

template <typename T>
T parse_number(const std::string& flag, const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) usage("invalid value for " + flag + ": '" + text + "'");
  return value;
}

double parse_double(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || *end != '\0' || !std::isfinite(value)) {
    usage("invalid value for " + flag + ": '" + text + "'");
  }
  return value;
}

void parse_url(Options& o, const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) usage("--url must start with http:// (no TLS)");
  std::string rest = url.substr(scheme.size());
  std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  o.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::size_t colon = authority.rfind(':');
  if (colon == std::string::npos) {
    o.host = authority;
    o.port = "80";
  } else {
    o.host = authority.substr(0, colon);
    o.port = authority.substr(colon + 1);
    int port = parse_number<int>("--url port", o.port);
    if (port < 1 || port > 65535) usage("--url port out of range");
  }
  if (o.host.empty()) usage("--url has no host");
}

Options parse_args(int argc, char** argv) {
  Options o;
  if (const char* s = std::getenv("SECRET")) o.secret = s;
  if (const char* b = std::getenv("PUBLIC_BASE_URL")) o.public_base = b;
  bool have_url = false, have_rate = false, have_duration = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") usage("help");
    if (i + 1 >= argc) usage("missing value for " + flag);
    std::string value = argv[++i];
    if (flag == "--url") {
      parse_url(o, value);
      have_url = true;
    } else if (flag == "--public-base") {
      o.public_base = value;
    } else if (flag == "--secret") {
      o.secret = value;
    } else if (flag == "--events") {
      o.events = parse_number<int>(flag, value);
    } else if (flag == "--rate") {
      o.rate = parse_double(flag, value);
      have_rate = true;
    } else if (flag == "--duration") {
      o.duration = parse_double(flag, value);
      have_duration = true;
    } else if (flag == "--connections") {
      o.connections = parse_number<int>(flag, value);
    } else if (flag == "--id-base") {
      o.id_base = parse_number<std::uint64_t>(flag, value);
    } else if (flag == "--timeout") {
      o.timeout = parse_double(flag, value);
    } else if (flag == "--grace") {
      o.grace = parse_double(flag, value);
    } else {
      usage("unknown option " + flag);
    }
  }
  if (!have_url) usage("--url is required");
  if (!have_rate || o.rate <= 0) usage("--rate must be > 0 requests per second");
  if (!have_duration || o.duration <= 0) usage("--duration must be > 0 seconds");
  if (o.events < 1 || o.events > 10000) usage("--events must be between 1 and 10000");
  if (o.connections < 1 || o.connections > 4096) usage("--connections must be between 1 and 4096");
  if (o.timeout <= 0) usage("--timeout must be > 0");
  if (o.grace < 0) usage("--grace must be >= 0");
  if (o.secret.empty()) usage("--secret (or env SECRET) must not be empty");
  // Every signature is made before the run; HubSpot accepts timestamps up to 5 minutes old.
  if (o.duration + o.grace > 240) usage("--duration + --grace must stay under 240 s (signatures expire after 5 min)");
  double total = std::round(o.rate * o.duration);
  if (total < 1) usage("--rate * --duration must be at least one request");
  if (total > 50e6) usage("--rate * --duration is too many requests to pre-build");
  return o;
}

std::uint64_t epoch_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string sign(const std::string& secret, const std::string& message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &md_len) == nullptr) {
    std::fprintf(stderr, "fixed_rate: HMAC failed\n");
    std::exit(1);
  }
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, md, static_cast<int>(md_len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<std::size_t>(n));
}

// Request i carries events with ids id_base + i * events + 1 ... id_base + (i + 1) * events.
std::vector<std::string> build_requests(const Options& o, std::uint64_t id_base, std::size_t count) {
  std::vector<std::string> requests;
  requests.reserve(count);
  const std::string uri = o.public_base + o.path;
  const std::string host_header = o.host + ":" + o.port;
  std::string body, message;
  char event[512];
  for (std::size_t i = 0; i < count; ++i) {
    body.clear();
    body += '[';
    for (int k = 0; k < o.events; ++k) {
      unsigned long long id = id_base + i * static_cast<std::uint64_t>(o.events) + static_cast<std::uint64_t>(k) + 1;
      int n = std::snprintf(event, sizeof event,
                            "%s{\"eventId\":%llu,\"subscriptionId\":7662269,\"portalId\":62515,\"appId\":9393361,"
                            "\"occurredAt\":1763800000000,\"subscriptionType\":\"contact.propertyChange\","
                            "\"attemptNumber\":0,\"objectId\":%llu,\"propertyName\":\"lifecyclestage\","
                            "\"propertyValue\":\"marketingqualifiedlead\",\"changeSource\":\"CRM_UI\","
                            "\"sourceId\":\"userId:98499705\"}",
                            k == 0 ? "" : ",", id, id + 5000);
      body.append(event, static_cast<std::size_t>(n));
    }
    body += ']';
    const std::string ts = std::to_string(epoch_ms());
    message.clear();
    message += "POST";
    message += uri;
    message += body;
    message += ts;
    std::string request;
    request.reserve(body.size() + 320);
    request += "POST " + o.path + " HTTP/1.1\r\n";
    request += "Host: " + host_header + "\r\n";
    request += "Content-Type: application/json\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    request += "X-HubSpot-Request-Timestamp: " + ts + "\r\n";
    request += "X-HubSpot-Signature-v3: " + sign(o.secret, message) + "\r\n";
    request += "\r\n";
    request += body;
    requests.push_back(std::move(request));
  }
  return requests;
}

// --- HTTP/1.1 client connection ----------------------------------------------------------------

enum class Failure { none, connect, send, receive, timeout, malformed };

class Connection {
 public:
  Connection(const addrinfo* address, double timeout) : address_(address), timeout_(timeout) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { close(); }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  bool connect() {
    close();
    for (const addrinfo* a = address_; a != nullptr; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      timeval tv{};
      tv.tv_sec = static_cast<time_t>(timeout_);
      tv.tv_usec = static_cast<suseconds_t>((timeout_ - static_cast<double>(tv.tv_sec)) * 1e6);
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
        return true;
      }
      ::close(fd);
    }
    return false;
  }

  bool connected() const { return fd_ >= 0; }

  // True when the peer has closed (or reset) an idle keep-alive connection, or sent bytes nobody
  // asked for: the connection must not carry the next request.
  bool stale() {
    if (fd_ < 0) return true;
    if (!buffer_.empty()) return true;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 0);
    if (r == 0) return false;
    if (r < 0) return errno != EINTR;
    return true;  // readable while idle: EOF, error or unsolicited data
  }

  Failure send_all(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? Failure::timeout : Failure::send;
      }
      sent += static_cast<std::size_t>(n);
    }
    return Failure::none;
  }

  // Reads one response. On success sets status and whether the connection must be closed.
  Failure read_response(int& status, bool& must_close) {
    for (;;) {
      std::size_t header_end;
      while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
        if (buffer_.size() > 64 * 1024) return Failure::malformed;
        if (Failure f = fill(); f != Failure::none) return f;
      }
      std::string_view head(buffer_.data(), header_end);
      std::size_t line_end = head.find("\r\n");
      std::string_view status_line = head.substr(0, line_end);
      // "HTTP/1.1 200 OK"
      if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
        return Failure::malformed;
      }
      bool http10 = status_line[7] == '0';
      int code = 0;
      for (std::size_t k = 9; k < 12; ++k) {
        if (status_line[k] < '0' || status_line[k] > '9') return Failure::malformed;
        code = code * 10 + (status_line[k] - '0');
      }
      if (status_line.size() > 12 && status_line[12] != ' ') return Failure::malformed;

      std::optional<std::uint64_t> content_length;
      bool chunked = false;
      bool close_header = false, keep_alive_header = false;
      std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        std::size_t end = head.find("\r\n", pos);
        if (end == std::string_view::npos) end = head.size();
        std::string_view line = head.substr(pos, end - pos);
        pos = end + 2;
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return Failure::malformed;
        std::string name = lower(line.substr(0, colon));
        std::string value = lower(trim(line.substr(colon + 1)));
        if (name == "content-length") {
          std::uint64_t n = 0;
          auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
          if (ec != std::errc() || ptr != value.data() + value.size()) return Failure::malformed;
          if (content_length && *content_length != n) return Failure::malformed;
          content_length = n;
        } else if (name == "transfer-encoding") {
          chunked = has_token(value, "chunked");
        } else if (name == "connection") {
          close_header = close_header || has_token(value, "close");
          keep_alive_header = keep_alive_header || has_token(value, "keep-alive");
        }
      }
      buffer_.erase(0, header_end + 4);

      if (code >= 100 && code < 200) continue;  // interim response (e.g. 100 Continue): read the next one

      must_close = close_header || (http10 && !keep_alive_header);
      if (code == 204 || code == 304) {
        // no body
      } else if (chunked) {
        if (Failure f = read_chunked(); f != Failure::none) return f;
      } else if (content_length) {
        while (buffer_.size() < *content_length) {
          if (Failure f = fill(); f != Failure::none) return f;
        }
        buffer_.erase(0, static_cast<std::size_t>(*content_length));
      } else {
        // No length: the body runs to the end of the connection.
        for (;;) {
          Failure f = fill();
          if (f == Failure::receive && eof_) break;
          if (f != Failure::none) return f;
          buffer_.clear();
        }
        buffer_.clear();
        must_close = true;
      }
      status = code;
      return Failure::none;
    }
  }

 private:
  static std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }
  static bool has_token(const std::string& value, std::string_view token) {
    std::size_t start = 0;
    while (start <= value.size()) {
      std::size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      if (trim(std::string_view(value).substr(start, comma - start)) == token) return true;
      start = comma + 1;
    }
    return false;
  }

  // Appends what the socket has to buffer_ (at least one byte).
  Failure fill() {
    eof_ = false;
    char chunk[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return Failure::none;
      }
      if (n == 0) {
        eof_ = true;
        return Failure::receive;
      }
      if (errno == EINTR) continue;
      return (errno == EAGAIN || errno == EWOULDBLOCK) ? Failure::timeout : Failure::receive;
    }
  }

  Failure read_line(std::string& line) {
    std::size_t end;
    while ((end = buffer_.find("\r\n")) == std::string::npos) {
      if (buffer_.size() > 64 * 1024) return Failure::malformed;
      if (Failure f = fill(); f != Failure::none) return f;
    }
    line.assign(buffer_, 0, end);
    buffer_.erase(0, end + 2);
    return Failure::none;
  }

  Failure read_chunked() {
    std::string line;
    for (;;) {
      if (Failure f = read_line(line); f != Failure::none) return f;
      std::size_t semicolon = line.find(';');
      std::string_view size_text = trim(std::string_view(line).substr(0, semicolon));
      std::uint64_t size = 0;
      auto [ptr, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
      if (size_text.empty() || ec != std::errc() || ptr != size_text.data() + size_text.size()) {
        return Failure::malformed;
      }
      if (size == 0) break;
      while (buffer_.size() < size + 2) {
        if (Failure f = fill(); f != Failure::none) return f;
      }
      if (buffer_.compare(static_cast<std::size_t>(size), 2, "\r\n") != 0) return Failure::malformed;
      buffer_.erase(0, static_cast<std::size_t>(size) + 2);
    }
    for (;;) {  // trailers, up to the empty line
      if (Failure f = read_line(line); f != Failure::none) return f;
      if (line.empty()) return Failure::none;
    }
  }

  const addrinfo* address_;
  double timeout_;
  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

// --- The run ----------------------------------------------------------------------------------

struct WorkerResult {
  std::vector<std::int64_t> latencies_ns;
  std::uint64_t responses = 0;
  std::uint64_t ok = 0;
  std::uint64_t non2xx = 0;
  std::uint64_t errors[6] = {};  // indexed by Failure
  std::uint64_t unsent = 0;
  Clock::time_point last_end{};
};

std::int64_t percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  if (rank < 1) rank = 1;
  if (rank > sorted.size()) rank = sorted.size();
  return sorted[rank - 1];
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  Options o = parse_args(argc, argv);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* address = nullptr;
  if (int rc = ::getaddrinfo(o.host.c_str(), o.port.c_str(), &hints, &address); rc != 0) {
    std::fprintf(stderr, "fixed_rate: cannot resolve %s:%s: %s\n", o.host.c_str(), o.port.c_str(), gai_strerror(rc));
    return 2;
  }

  const std::size_t total = static_cast<std::size_t>(std::llround(o.rate * o.duration));
  const std::uint64_t id_base = o.id_base ? *o.id_base : (epoch_ms() % 90000) * 100000000000ULL;
  if (static_cast<double>(id_base) + static_cast<double>(total) * o.events >= 9007199254740992.0) {
    usage("--id-base + requests * events must stay below 2^53 (ids are JSON numbers)");
  }

  auto build_start = Clock::now();
  std::vector<std::string> requests = build_requests(o, id_base, total);
  std::size_t bytes = 0;
  for (const auto& r : requests) bytes += r.size();
  std::fprintf(stderr,
               "fixed_rate: pre-signed %zu requests (%.1f MB) in %.2f s; sending at %.1f req/s over %d connections\n",
               total, static_cast<double>(bytes) / 1048576.0,
               std::chrono::duration<double>(Clock::now() - build_start).count(), o.rate, o.connections);

  const int workers = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(o.connections), total));
  std::vector<WorkerResult> results(static_cast<std::size_t>(workers));
  std::latch connected(workers);
  std::latch go(1);
  Clock::time_point t0{};
  Clock::time_point give_up{};
  const double interval_ns = 1e9 / o.rate;

  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      WorkerResult& res = results[static_cast<std::size_t>(w)];
      res.latencies_ns.reserve(total / static_cast<std::size_t>(workers) + 1);
      Connection conn(address, o.timeout);
      conn.connect();  // a failure here is retried (and counted) at the first request
      connected.count_down();
      go.wait();
      for (std::size_t i = static_cast<std::size_t>(w); i < total; i += static_cast<std::size_t>(workers)) {
        const Clock::time_point due =
            t0 +
            std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(static_cast<double>(i) * interval_ns)));
        Clock::time_point now = Clock::now();
        if (now < due) {
          std::this_thread::sleep_until(due);
        } else if (now > give_up) {
          res.unsent += (total - 1 - i) / static_cast<std::size_t>(workers) + 1;
          break;
        }
        if (conn.connected() && conn.stale()) conn.close();
        if (!conn.connected() && !conn.connect()) {
          ++res.errors[static_cast<int>(Failure::connect)];
          continue;
        }
        Failure f = conn.send_all(requests[i]);
        int status = 0;
        bool must_close = false;
        if (f == Failure::none) f = conn.read_response(status, must_close);
        if (f != Failure::none) {
          ++res.errors[static_cast<int>(f)];
          conn.close();
          continue;
        }
        const Clock::time_point end = Clock::now();
        res.latencies_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - due).count());
        res.last_end = std::max(res.last_end, end);
        ++res.responses;
        if (status >= 200 && status < 300) {
          ++res.ok;
        } else {
          ++res.non2xx;
        }
        if (must_close) conn.close();
        std::string().swap(requests[i]);  // release the sent request's memory
      }
    });
  }
  connected.wait();
  t0 = Clock::now() + std::chrono::milliseconds(50);
  give_up = t0 + std::chrono::nanoseconds(static_cast<std::int64_t>((o.duration + o.grace) * 1e9));
  go.count_down();
  for (auto& t : threads) t.join();
  freeaddrinfo(address);

  std::vector<std::int64_t> all;
  all.reserve(total);
  std::uint64_t responses = 0, ok = 0, non2xx = 0, unsent = 0;
  std::uint64_t errors[6] = {};
  Clock::time_point last_end = t0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    responses += r.responses;
    ok += r.ok;
    non2xx += r.non2xx;
    unsent += r.unsent;
    for (int k = 0; k < 6; ++k) errors[k] += r.errors[k];
    last_end = std::max(last_end, r.last_end);
  }
  std::sort(all.begin(), all.end());
  const std::uint64_t socket_errors = errors[1] + errors[2] + errors[3] + errors[4] + errors[5];
  double elapsed = std::chrono::duration<double>(last_end - t0).count();
  if (elapsed <= 0) elapsed = o.duration;
  if (socket_errors > 0) {
    std::fprintf(stderr, "fixed_rate: socket errors: connect=%llu send=%llu receive=%llu timeout=%llu malformed=%llu\n",
                 static_cast<unsigned long long>(errors[1]), static_cast<unsigned long long>(errors[2]),
                 static_cast<unsigned long long>(errors[3]), static_cast<unsigned long long>(errors[4]),
                 static_cast<unsigned long long>(errors[5]));
  }
  std::printf(
      "RESULT events=%d requests=%llu non2xx=%llu socket_errors=%llu req_per_s=%.0f events_per_s=%.0f p50_ms=%.2f "
      "p99_ms=%.2f max_ms=%.2f target_rate=%g scheduled=%zu unsent=%llu elapsed_s=%.2f\n",
      o.events, static_cast<unsigned long long>(responses), static_cast<unsigned long long>(non2xx),
      static_cast<unsigned long long>(socket_errors), static_cast<double>(responses) / elapsed,
      static_cast<double>(ok) * o.events / elapsed, static_cast<double>(percentile(all, 50)) / 1e6,
      static_cast<double>(percentile(all, 99)) / 1e6, all.empty() ? 0.0 : static_cast<double>(all.back()) / 1e6, o.rate,
      total, static_cast<unsigned long long>(unsent), elapsed);
  return 0;
}
