// TUN devices for the lab: open + TUNSETIFF, batched non-blocking reads driven by a
// uv_poll_t on the env's loop (one JS call per batch), batched writes from a transmit
// slab JS fills (one write() per packet, never blocking: EAGAIN and other failures
// count as drops).
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <unordered_set>

#include "errors.h"

namespace svclab {

namespace {

enum Stat {
  RX_PACKETS,
  RX_BYTES,
  TX_PACKETS,
  TX_BYTES,
  TX_DROPPED,
  RX_ERRORS,
  LAST_ERRNO,
  RX_BATCHES,
  NSTATS
};

// Open devices, so an env's cleanup hook can close the ones it owns.
std::mutex registryMu;
std::unordered_set<TunDevice*>* registry = new std::unordered_set<TunDevice*>();
std::unordered_set<napi_env>* hookedEnvs = new std::unordered_set<napi_env>();

void CleanupHook(void* arg) { TunDevice::CloseAll(static_cast<napi_env>(arg)); }

}  // namespace

Napi::Function TunDevice::Define(Napi::Env env) {
  return DefineClass(env, "TunDevice",
                     {
                         InstanceMethod<&TunDevice::Start>("start"),
                         InstanceMethod<&TunDevice::Stop>("stop"),
                         InstanceMethod<&TunDevice::WriteTx>("writeTx"),
                         InstanceMethod<&TunDevice::WriteOne>("writeOne"),
                         InstanceMethod<&TunDevice::Close>("close"),
                         InstanceAccessor<&TunDevice::GetFd>("fd"),
                         InstanceAccessor<&TunDevice::GetName>("name"),
                         InstanceAccessor<&TunDevice::GetClosed>("closed"),
                     });
}

void TunDevice::CloseAll(napi_env env) {
  std::vector<TunDevice*> mine;
  {
    std::lock_guard<std::mutex> lock(registryMu);
    for (TunDevice* d : *registry)
      if (d->env_ == env) mine.push_back(d);
    hookedEnvs->erase(env);
  }
  for (TunDevice* d : mine) d->CloseInternal();
}

// new TunDevice(name, multiQueue, batch, typicalPacketBytes)
TunDevice::TunDevice(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<TunDevice>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw CodedError(env, "ERR_INVALID_ARG_TYPE", "TunDevice: name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  bool multiQueue = info.Length() > 1 && info[1].ToBoolean().Value();
  if (info.Length() > 2 && info[2].IsNumber()) {
    int64_t b = info[2].As<Napi::Number>().Int64Value();
    if (b < 1 || b > 4096)
      throw CodedError(env, "ERR_OUT_OF_RANGE", "TunDevice: batch must be 1..4096");
    batch_ = static_cast<uint32_t>(b);
  }
  if (info.Length() > 3 && info[3].IsNumber()) {
    int64_t s = info[3].As<Napi::Number>().Int64Value();
    if (s < 576 || s > 65536)
      throw CodedError(env, "ERR_OUT_OF_RANGE", "TunDevice: packet budget must be 576..65536");
    slot_ = static_cast<size_t>(s);
  }
  if (name.size() > IFNAMSIZ - 1)
    throw CodedError(env, "ENAMETOOLONG",
                     "TUN name \"" + name + "\" has " + std::to_string(name.size()) +
                         " characters; Linux interface names have at most " +
                         std::to_string(IFNAMSIZ - 1));
  if (name.find('/') != std::string::npos || name.find_first_of(" \t\n:") != std::string::npos)
    throw CodedError(env, "EINVAL", "TUN name \"" + name + "\" contains '/', ':' or whitespace");

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw SystemError(env, errno, "open", "/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0);
  memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    throw SystemError(env, err, "TUNSETIFF", name.empty() ? "(kernel-named)" : name);
  }
  fd_ = fd;
  name_ = std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));

  // Room for a batch of typical packets plus one of the largest: reads pack densely and
  // a read always has MAX_PACKET bytes to land in, whatever MTU the device gets later.
  slabSize_ = batch_ * slot_ + MAX_PACKET;
  Napi::ArrayBuffer slab = Napi::ArrayBuffer::New(env, slabSize_);
  slab_ = static_cast<uint8_t*>(slab.Data());
  Napi::Uint32Array lens = Napi::Uint32Array::New(env, batch_);
  lens_ = lens.Data();
  Napi::Uint32Array offs = Napi::Uint32Array::New(env, batch_);
  offs_ = offs.Data();
  Napi::ArrayBuffer txSlab = Napi::ArrayBuffer::New(env, TX_SLAB);
  txSlab_ = static_cast<uint8_t*>(txSlab.Data());
  Napi::Uint32Array txLens = Napi::Uint32Array::New(env, TX_MAX);
  txLens_ = txLens.Data();
  txSlabRef_ = Napi::Persistent(static_cast<Napi::Object>(txSlab));
  txLensRef_ = Napi::Persistent(static_cast<Napi::Object>(txLens));
  Napi::Float64Array stats = Napi::Float64Array::New(env, NSTATS);
  stats_ = stats.Data();
  std::fill(stats_, stats_ + NSTATS, 0.0);
  slabRef_ = Napi::Persistent(static_cast<Napi::Object>(slab));
  lensRef_ = Napi::Persistent(static_cast<Napi::Object>(lens));
  offsRef_ = Napi::Persistent(static_cast<Napi::Object>(offs));
  statsRef_ = Napi::Persistent(static_cast<Napi::Object>(stats));
  Napi::Object self = info.This().As<Napi::Object>();
  self.Set("slab", slab);
  self.Set("lengths", lens);
  self.Set("offsets", offs);
  self.Set("txSlab", txSlab);
  self.Set("txLengths", txLens);
  self.Set("statsArray", stats);
  self.Set("batch", Napi::Number::New(env, batch_));

  std::lock_guard<std::mutex> lock(registryMu);
  registry->insert(this);
  if (hookedEnvs->insert(env_).second) napi_add_env_cleanup_hook(env_, CleanupHook, env_);
}

TunDevice::~TunDevice() {
  CloseInternal();
  std::lock_guard<std::mutex> lock(registryMu);
  registry->erase(this);
}

// start(cb): cb(count) after each batch read; count < 0 is -errno of a read error
// that stopped polling.
Napi::Value TunDevice::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw CodedError(env, "ERR_TUN_CLOSED", "TUN " + name_ + " is closed");
  if (info.Length() < 1 || !info[0].IsFunction())
    throw CodedError(env, "ERR_INVALID_ARG_TYPE", "start: callback must be a function");
  cb_ = Napi::Persistent(info[0].As<Napi::Function>());
  if (!async_) async_ = std::make_unique<Napi::AsyncContext>(env, "svclab:tun");
  if (polling_) return env.Undefined();
  if (poll_ == nullptr) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    int r = uv_poll_init(loop, poll_, fd_);
    if (r != 0) {
      delete poll_;
      poll_ = nullptr;
      throw SystemError(env, -r, "uv_poll_init", name_);
    }
    poll_->data = this;
  }
  int r = uv_poll_start(poll_, UV_READABLE, OnPoll);
  if (r != 0) throw SystemError(env, -r, "uv_poll_start", name_);
  polling_ = true;
  Ref();  // a polling device stays alive without a JS reference
  return env.Undefined();
}

Napi::Value TunDevice::Stop(const Napi::CallbackInfo& info) {
  StopPolling();
  return info.Env().Undefined();
}

void TunDevice::StopPolling() {
  if (!polling_) return;
  polling_ = false;
  if (poll_ != nullptr) uv_poll_stop(poll_);
  Unref();
}

void TunDevice::OnPoll(uv_poll_t* handle, int status, int events) {
  TunDevice* self = static_cast<TunDevice*>(handle->data);
  if (self == nullptr || !self->polling_) return;
  // status < 0: libuv saw POLLERR and stopped the poll; the read below says why.
  self->ReadBatch(status < 0 ? -status : 0);
}

void TunDevice::ReadBatch(int pollErr) {
  uint32_t n = 0;
  int err = 0;
  size_t off = 0;
  while (n < batch_ && slabSize_ - off >= MAX_PACKET) {
    ssize_t r = read(fd_, slab_ + off, slabSize_ - off);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    if (static_cast<size_t>(r) > MAX_PACKET) {
      // Longer than any IPv4 datagram (the kernel reports the length, copies what fits).
      stats_[RX_ERRORS] += 1;
      continue;
    }
    offs_[n] = static_cast<uint32_t>(off);
    lens_[n] = static_cast<uint32_t>(r);
    off = (off + static_cast<size_t>(r) + 63) & ~static_cast<size_t>(63);  // cache-line aligned
    stats_[RX_BYTES] += static_cast<double>(r);
    n++;
  }
  stats_[RX_PACKETS] += n;
  // libuv turns POLLERR into EBADF; a TUN fd raises POLLERR only once its device is gone
  // (tun_chr_poll: no tun), which read() reports as EBADFD when it gets there first.
  if (err == 0 && n == 0) err = pollErr == EBADF ? EBADFD : pollErr;
  if (err != 0) {
    stats_[RX_ERRORS] += 1;
    stats_[LAST_ERRNO] = err;
  }
  if (n == 0 && err == 0) return;
  if (n > 0) stats_[RX_BATCHES] += 1;
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  // Keep the wrapper alive across the call even if JS closes the device inside it.
  Napi::Object self = Value();
  Napi::Function cb = cb_.IsEmpty() ? Napi::Function() : cb_.Value();
  if (cb.IsEmpty()) return;
  try {
    if (n > 0) cb.MakeCallback(self, {Napi::Number::New(env, n)}, *async_);
    if (err != 0) {
      // A failing fd (the device went away) would make the poll spin: stop and report.
      StopPolling();
      Napi::Error e = SystemError(env, err, "read", name_);
      cb.MakeCallback(self, {Napi::Number::New(env, -err), e.Value()}, *async_);
    }
  } catch (const Napi::Error& e) {
    // No JS frame to throw into: make it the process's uncaught exception.
    napi_fatal_exception(env_, e.Value());
  }
}

bool TunDevice::WritePacket(const uint8_t* data, size_t len) {
  for (;;) {
    ssize_t r = write(fd_, data, len);
    if (r >= 0) {
      stats_[TX_PACKETS] += 1;
      stats_[TX_BYTES] += static_cast<double>(r);
      return true;
    }
    if (errno == EINTR) continue;
    stats_[TX_DROPPED] += 1;
    stats_[LAST_ERRNO] = errno;
    return false;
  }
}

// writeTx(n): write the n packets JS laid back to back in the transmit slab.
Napi::Value TunDevice::WriteTx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw CodedError(env, "ERR_TUN_CLOSED", "TUN " + name_ + " is closed");
  uint32_t n = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
  if (n > TX_MAX) throw CodedError(env, "ERR_OUT_OF_RANGE", "writeTx: too many packets");
  size_t off = 0;
  uint32_t written = 0;
  for (uint32_t i = 0; i < n; i++) {
    size_t len = txLens_[i];
    if (len > TX_SLAB - off) throw CodedError(env, "ERR_OUT_OF_RANGE", "writeTx: past the slab");
    if (WritePacket(txSlab_ + off, len)) written++;
    off += len;
  }
  return Napi::Number::New(env, written);
}

Napi::Value TunDevice::WriteOne(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw CodedError(env, "ERR_TUN_CLOSED", "TUN " + name_ + " is closed");
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw CodedError(env, "ERR_INVALID_ARG_TYPE", "writeOne: packet must be a Uint8Array");
  Napi::Uint8Array p = info[0].As<Napi::Uint8Array>();
  return Napi::Boolean::New(env, WritePacket(p.Data(), p.ByteLength()));
}

Napi::Value TunDevice::Close(const Napi::CallbackInfo& info) {
  CloseInternal();
  return info.Env().Undefined();
}

void TunDevice::CloseInternal() {
  if (closed_) return;
  closed_ = true;
  StopPolling();
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!cb_.IsEmpty()) cb_.Reset();
}

Napi::Value TunDevice::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

Napi::Value TunDevice::GetName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), name_);
}

Napi::Value TunDevice::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), closed_);
}

}  // namespace svclab
