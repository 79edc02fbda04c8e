# node-gyp build of the TUN addon (Linux only; native/build.mjs skips it elsewhere).
{
  "targets": [
    {
      "target_name": "svclab_tun",
      "sources": ["src/addon.cc", "src/tun.cc", "src/errors.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
