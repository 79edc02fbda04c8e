// One TUN device: the fd from /dev/net/tun, a libuv poll on it and the buffers a
// batch of packets travels through between the kernel and JS.
#pragma once
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

namespace svclab {

class TunDevice : public Napi::ObjectWrap<TunDevice> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** Close every device opened in `env` (env cleanup hook). */
  static void CloseAll(napi_env env);

  explicit TunDevice(const Napi::CallbackInfo& info);
  ~TunDevice() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value WriteTx(const Napi::CallbackInfo& info);
  Napi::Value WriteOne(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  void ReadBatch(int pollErr);
  void StopPolling();
  void CloseInternal();
  bool WritePacket(const uint8_t* data, size_t len);

  napi_env env_;
  int fd_ = -1;
  std::string name_;
  bool closed_ = false;
  bool polling_ = false;
  uv_poll_t* poll_ = nullptr;

  // The receive slab: packet i of a batch is at offs_[i], lens_[i] bytes long. Packets are
  // packed (64-byte aligned); a read is only tried with MAX_PACKET bytes left.
  static constexpr size_t MAX_PACKET = 65536;
  uint32_t batch_ = 64;
  size_t slot_ = 2048;  // typical packet budget: slab = batch_ * slot_ + MAX_PACKET
  size_t slabSize_ = 0;
  uint8_t* slab_ = nullptr;
  uint32_t* lens_ = nullptr;
  uint32_t* offs_ = nullptr;
  // rxPackets, rxBytes, txPackets, txBytes, txDropped, rxErrors, lastErrno, rxBatches
  double* stats_ = nullptr;
  Napi::ObjectReference slabRef_;
  Napi::ObjectReference lensRef_;
  Napi::ObjectReference offsRef_;
  // The transmit slab: JS copies a batch in back to back, txLens_[i] bytes each, and
  // calls writeTx(n) — one N-API call per batch instead of several per packet.
  static constexpr size_t TX_SLAB = 256 * 1024;
  static constexpr uint32_t TX_MAX = 1024;
  uint8_t* txSlab_ = nullptr;
  uint32_t* txLens_ = nullptr;
  Napi::ObjectReference txSlabRef_;
  Napi::ObjectReference txLensRef_;
  Napi::ObjectReference statsRef_;
  Napi::FunctionReference cb_;
  std::unique_ptr<Napi::AsyncContext> async_;
};

}  // namespace svclab
