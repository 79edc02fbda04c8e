// JS Errors shaped like Node's system errors: message "SYSCALL NAME: strerror",
// `errno` (negative, as Node and libuv report it), `code` ('EPERM') and `syscall`.
#pragma once
#include <napi.h>

#include <string>

namespace svclab {

Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall,
                        const std::string& subject);

/** An Error with a code but no errno (argument and state errors). */
Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message);

}  // namespace svclab
