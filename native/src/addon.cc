// svclab_tun.node: the TUN device class the lab (src/lab/tun.ts) drives.
#include <napi.h>

#include "tun.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("TunDevice", svclab::TunDevice::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(svclab_tun, Init)
