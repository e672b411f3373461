#pragma once
// The coroutine type of hubspot/'s asynchronous calls, named without including Asio (as
// common/http_client.hpp does): boost::asio::awaitable<T> on the default executor. Callers that
// co_await include <boost/asio/awaitable.hpp>.

namespace boost::asio {
class any_io_executor;
template <typename T, typename Executor>
class awaitable;
}  // namespace boost::asio

namespace tandem::hubspot {
template <class T>
using Awaitable = boost::asio::awaitable<T, boost::asio::any_io_executor>;
}  // namespace tandem::hubspot
