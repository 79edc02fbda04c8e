#include "errors.h"

#include <string.h>
#include <uv.h>

namespace svclab {

Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall,
                        const std::string& subject) {
  std::string msg = syscall;
  if (!subject.empty()) msg += " " + subject;
  msg += ": ";
  msg += strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  // uv_err_name maps -errno to its symbolic name ("EPERM") on Unix.
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("code", Napi::String::New(env, uv_err_name(-err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

}  // namespace svclab
