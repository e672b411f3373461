#pragma once
// Result<T, E>: the one type for EXPECTED failures on the data path (STYLE.md, errors of the third
// kind): a network call that failed, a timeout, a HubSpot 4xx/5xx, a bad signature, a storage
// error, a lease that was lost. Every new interface returns one; each module has a small typed
// error struct of its own (for example webhooks::InboxError) and maps the errors of the modules
// below it at its boundary.
//
// Not for the other three kinds: start-up and configuration problems are collected and end the
// process; programming errors assert; mistakes in files people edit are Diagnostics.
//
// It is boost::system::result (Boost 1.81), with E chosen by the module:
//   Result<Claimed, InboxError> r = inbox.claim(...);
//   if (!r) { log(r.error().message); return; }   // has_error()
//   use(*r);                                       // or r->field; only after the check
// Result<void, E> for calls that return nothing. Return a T or an E directly; both convert.
// Do not call .value() with a project error type: it throws through throw_exception_from_error,
// which the project does not define for its errors on purpose (a failure is a value here, never
// an exception).

#include <boost/system/result.hpp>

namespace tandem {

template <class T, class E>
using Result = boost::system::result<T, E>;

}  // namespace tandem
