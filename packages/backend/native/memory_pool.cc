// Tensor memory of the native backend: 64-byte aligned blocks handed to JavaScript as external
// ArrayBuffers. The backend keeps each ArrayBuffer and reuses it for a later tensor of the same size class
// once the tensors using it are disposed (src/native-backend/memory.ts), so a training step runs on the
// memory of the step before: no page faults on fresh zeroed pages, and no new ArrayBuffers for V8 to
// account and collect (a new ArrayBuffer per activation made V8 collect garbage every few kernels).
//
// A block returns here only when V8 collects its ArrayBuffer (one the backend dropped, or one whose
// reference escaped to JavaScript); it is then kept in a free list for the next `alloc`. Blocks marked
// escaped are reported to V8 as external memory, so that the collector knows it is worth running.
#include <node_api.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace {

struct Block {
  void* mem;
  size_t bytes;          // the size class (capacity)
  bool escaped = false;  // counted in V8's external memory
};

struct Pool {
  std::map<size_t, std::vector<void*>> free;  // by size
  std::unordered_map<void*, Block*> live;     // blocks now owned by an ArrayBuffer
  size_t cached = 0;                          // bytes in free lists
  size_t live_bytes = 0;
  size_t limit = 0;                           // most bytes kept in free lists
  uint64_t allocations = 0, reuses = 0;
};

Pool& pool() {
  static Pool p = [] {
    Pool q;
    const char* env = std::getenv("SPARSE_IFT_POOL_MAX_MB");
    if (env) {
      q.limit = size_t(std::strtoull(env, nullptr, 10)) << 20;
    } else {
      // Half the machine's memory: a step's transient tensors are recycled, not returned to the OS.
      const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
      q.limit = pages > 0 && page > 0 ? size_t(pages) * size_t(page) / 2 : size_t(4) << 30;
    }
    return q;
  }();
  return p;
}

void put_back(Pool& p, void* mem, size_t bytes) {
  if (p.cached + bytes > p.limit) {
    std::free(mem);
    return;
  }
  p.free[bytes].push_back(mem);
  p.cached += bytes;
}

void finalize(napi_env env, void*, void* hint) {
  Block* b = static_cast<Block*>(hint);
  Pool& p = pool();
  p.live.erase(b->mem);
  p.live_bytes -= b->bytes;
  put_back(p, b->mem, b->bytes);
  if (b->escaped) {
    int64_t ignored;
    napi_adjust_external_memory(env, -int64_t(b->bytes), &ignored);
  }
  delete b;
}

napi_value throw_error(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, ("sparse-ift native " + msg).c_str());
  return nullptr;
}

// alloc(bytes, zero) -> ArrayBuffer of `bytes` bytes (the caller's size classes keep the free lists few)
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
  const size_t bytes = size_t(requested), cls = (bytes + 63) / 64 * 64;
  Pool& p = pool();
  void* mem = nullptr;
  auto it = p.free.find(cls);
  if (it != p.free.end() && !it->second.empty()) {
    mem = it->second.back();
    it->second.pop_back();
    p.cached -= cls;
    p.reuses++;
  } else {
    mem = std::aligned_alloc(64, cls);
    if (!mem) return throw_error(env, "alloc: out of memory allocating " + std::to_string(cls) + " bytes");
    p.allocations++;
  }
  if (zero) std::memset(mem, 0, bytes);
  Block* b = new Block{mem, cls};
  napi_value ab;
  if (napi_create_external_arraybuffer(env, mem, bytes, finalize, b, &ab) != napi_ok) {
    put_back(p, mem, cls);
    delete b;
    return throw_error(env, "alloc: cannot create an external ArrayBuffer");
  }
  p.live[mem] = b;
  p.live_bytes += cls;
  return ab;
}

// escape(arrayBuffer): a pool block now referenced from JavaScript; the garbage collector will free it,
// so V8 is told about its memory.
napi_value escape(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool is_ab = false;
  if (argc == 1) napi_is_arraybuffer(env, argv[0], &is_ab);
  void* data = nullptr;
  size_t length = 0;
  if (is_ab) napi_get_arraybuffer_info(env, argv[0], &data, &length);
  Pool& p = pool();
  auto it = data ? p.live.find(data) : p.live.end();
  if (it != p.live.end() && !it->second->escaped) {
    it->second->escaped = true;
    int64_t ignored;
    napi_adjust_external_memory(env, int64_t(it->second->bytes), &ignored);
  }
  return nullptr;
}

// trim(): returns every cached block to the system
napi_value trim(napi_env env, napi_callback_info) {
  Pool& p = pool();
  for (auto& [cls, list] : p.free)
    for (void* m : list) std::free(m);
  p.free.clear();
  p.cached = 0;
  return nullptr;
}

// poolStats() -> { liveBytes, cachedBytes, limitBytes, allocations, reuses }
napi_value stats(napi_env env, napi_callback_info) {
  Pool& p = pool();
  napi_value o;
  napi_create_object(env, &o);
  auto set = [&](const char* k, double v) {
    napi_value n;
    napi_create_double(env, v, &n);
    napi_set_named_property(env, o, k, n);
  };
  set("liveBytes", double(p.live_bytes));
  set("cachedBytes", double(p.cached));
  set("limitBytes", double(p.limit));
  set("allocations", double(p.allocations));
  set("reuses", double(p.reuses));
  return o;
}

}  // namespace

namespace sift {

void memory_pool_exports(napi_env env, napi_value obj) {
  const std::pair<const char*, napi_callback> fns[] = {{"alloc", alloc}, {"escape", escape}, {"trim", trim}, {"poolStats", stats}};
  for (const auto& [name, fn] : fns) {
    napi_value f;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f);
    napi_set_named_property(env, obj, name, f);
  }
}

}  // namespace sift
