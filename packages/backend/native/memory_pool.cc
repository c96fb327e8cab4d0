// Tensor memory of the native backend: 64-byte aligned blocks handed to JavaScript as external
// ArrayBuffers. The backend keeps each ArrayBuffer and reuses it for a later tensor of the same size class
// once the tensors using it are disposed (src/native-backend/memory.ts), so a training step runs on the
// memory of the step before: no page faults on fresh zeroed pages, and no new ArrayBuffers for V8 to
// account and collect (a new ArrayBuffer per activation made V8 collect garbage every few kernels).
//
// A block is freed either by `discard` (the backend evicts an ArrayBuffer that nothing references: it is
// detached, so V8 never touches the memory again, and freed at once) or by the ArrayBuffer's finalizer
// when V8 collects it (one whose reference escaped to JavaScript). Escaped blocks are reported to V8 as
// external memory, so that the collector knows it is worth running.
#include <node_api.h>

#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <unordered_map>

namespace {

struct Block {
  void* mem;
  size_t bytes;
  bool freed = false;    // discarded: the finalizer only deletes the Block
  bool escaped = false;  // counted in V8's external memory
};

struct Pool {
  std::unordered_map<void*, Block*> live;  // blocks owned by an ArrayBuffer, by address
  size_t live_bytes = 0;
  uint64_t allocations = 0, discards = 0;
};

Pool& pool() {
  static Pool p;
  return p;
}

void release_block(napi_env env, Pool& p, Block* b) {
  p.live.erase(b->mem);
  p.live_bytes -= b->bytes;
  std::free(b->mem);
  b->freed = true;
  if (b->escaped) {
    int64_t ignored;
    napi_adjust_external_memory(env, -int64_t(b->bytes), &ignored);
  }
}

void finalize(napi_env env, void*, void* hint) {
  Block* b = static_cast<Block*>(hint);
  if (!b->freed) release_block(env, pool(), b);
  delete b;
}

napi_value throw_error(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, ("sparse-ift native " + msg).c_str());
  return nullptr;
}

// The live block behind an ArrayBuffer argument, or null.
Block* block_of(napi_env env, napi_callback_info info, napi_value* ab) {
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, ab, nullptr, nullptr);
  bool is_ab = false;
  if (argc == 1) napi_is_arraybuffer(env, *ab, &is_ab);
  void* data = nullptr;
  size_t length = 0;
  if (is_ab) napi_get_arraybuffer_info(env, *ab, &data, &length);
  auto it = data ? pool().live.find(data) : pool().live.end();
  return it == pool().live.end() ? nullptr : it->second;
}

// alloc(bytes, zero) -> ArrayBuffer of `bytes` bytes, 64-byte aligned (2 MB aligned from 2 MB)
napi_value alloc(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  double requested = -1;
  bool zero = true;
  if (argc != 2 || napi_get_value_double(env, argv[0], &requested) != napi_ok || napi_get_value_bool(env, argv[1], &zero) != napi_ok ||
      !(requested >= 1) || requested > 1e15 || requested != double(size_t(requested))) {
    return throw_error(env, "alloc: expected (bytes > 0, zero: boolean)");
  }
  // Blocks of 2 MB and more start on a 2 MB boundary and ask for transparent huge pages: the sparse kernels
  // read CHWN activations in place and write them directly, hopping between channel planes megabytes apart,
  // and with 4 KB pages every hop would miss the first-level TLB (their own staging buffers do the same).
  constexpr size_t kHuge = size_t(2) << 20;
  const size_t bytes = size_t(requested);
  const bool huge = bytes >= kHuge;
  const size_t capacity = huge ? (bytes + kHuge - 1) / kHuge * kHuge : (bytes + 63) / 64 * 64;
  void* mem = std::aligned_alloc(huge ? kHuge : 64, capacity);
  if (!mem) return throw_error(env, "alloc: out of memory allocating " + std::to_string(capacity) + " bytes for a tensor");
#ifdef MADV_HUGEPAGE
  if (huge) madvise(mem, capacity, MADV_HUGEPAGE);
#endif
  if (zero) std::memset(mem, 0, bytes);
  Block* b = new Block{mem, capacity};
  napi_value ab;
  if (napi_create_external_arraybuffer(env, mem, bytes, finalize, b, &ab) != napi_ok) {
    std::free(mem);
    delete b;
    return throw_error(env, "alloc: cannot create an external ArrayBuffer");
  }
  Pool& p = pool();
  p.live[mem] = b;
  p.live_bytes += capacity;
  p.allocations++;
  return ab;
}

// discard(arrayBuffer) -> true when it was a live block: detached and freed now. Only for an ArrayBuffer
// that nothing else references.
napi_value discard(napi_env env, napi_callback_info info) {
  napi_value ab;
  Block* b = block_of(env, info, &ab);
  bool done = b != nullptr && napi_detach_arraybuffer(env, ab) == napi_ok;
  if (done) {
    release_block(env, pool(), b);
    pool().discards++;
  }
  napi_value result;
  napi_get_boolean(env, done, &result);
  return result;
}

// escape(arrayBuffer): a block now referenced from JavaScript, to be freed by the garbage collector.
napi_value escape(napi_env env, napi_callback_info info) {
  napi_value ab;
  Block* b = block_of(env, info, &ab);
  if (b && !b->escaped) {
    b->escaped = true;
    int64_t ignored;
    napi_adjust_external_memory(env, int64_t(b->bytes), &ignored);
  }
  return nullptr;
}

// releaseFreed(): return freed heap memory to the system (glibc keeps freed blocks below its mmap
// threshold in the heap, where they still count in the resident size).
napi_value release_freed(napi_env, napi_callback_info) {
  malloc_trim(0);
  return nullptr;
}

// poolStats() -> { liveBytes, allocations, discards, physicalBytes }
napi_value stats(napi_env env, napi_callback_info) {
  Pool& p = pool();
  napi_value o;
  napi_create_object(env, &o);
  auto set = [&](const char* k, double v) {
    napi_value n;
    napi_create_double(env, v, &n);
    napi_set_named_property(env, o, k, n);
  };
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  set("liveBytes", double(p.live_bytes));
  set("allocations", double(p.allocations));
  set("discards", double(p.discards));
  set("physicalBytes", pages > 0 && page > 0 ? double(pages) * double(page) : 0.0);
  return o;
}

}  // namespace

namespace sift {

void memory_pool_exports(napi_env env, napi_value obj) {
  const std::pair<const char*, napi_callback> fns[] = {{"alloc", alloc}, {"discard", discard}, {"escape", escape}, {"releaseFreed", release_freed}, {"poolStats", stats}};
  for (const auto& [name, fn] : fns) {
    napi_value f;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f);
    napi_set_named_property(env, obj, name, f);
  }
}

}  // namespace sift
