#include "errors.h"

#include <string.h>
#include <uv.h>

namespace svclab {

namespace {

// "EPERM" for EPERM: libuv's names first (what Node's own errors use), then glibc's for
// errnos libuv does not know (EBADFD from a TUN whose device was deleted).
std::string ErrnoName(int err) {
  const char* uv = uv_err_name(-err);
  if (strncmp(uv, "Unknown", 7) != 0) return uv;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* g = strerrorname_np(err)) return g;
#endif
  return "E" + std::to_string(err);
}

}  // namespace

Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall,
                        const std::string& subject) {
  std::string msg = syscall;
  if (!subject.empty()) msg += " " + subject;
  msg += ": ";
  msg += strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

}  // namespace svclab
