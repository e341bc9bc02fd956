/*
 * picket's live capture: libpcap read on a thread of its own, packets copied into a few preallocated batches that
 * cross into JavaScript whole, one call per batch instead of one per packet.
 *
 * Threads and ownership
 *   - The JS thread opens the handle (pcap_create .. pcap_activate, filter), allocates the K batch slots (as
 *     picket's PacketBatch: one data Buffer plus typed arrays) and passes them in; this file only borrows them
 *     (a napi_ref each keeps them alive while the capture thread may write into them).
 *   - The capture thread is the only one that calls libpcap after start: pcap_dispatch in non-blocking mode,
 *     poll() on libpcap's descriptor and on an eventfd used to wake it for stop, pcap_stats every 100 ms.
 *   - Each slot is FREE (no one uses it), FILLING (the capture thread writes it) or WITH_JS (queued on the
 *     threadsafe function, or being read by the JS callback). The capture thread hands a slot over when it is full
 *     (packet count or bytes) or has waited flush_ms since its first packet; the JS side marks it FREE again as
 *     soon as the callback returns (a batch is only valid during the call), so giving it back costs nothing.
 *   - When no slot is FREE (JS is K batches behind), the capture thread stops reading and waits for one: the
 *     packets stay in the kernel's ring (sized by buffer_mb, preallocated), which holds the backlog through a
 *     JavaScript pause (a major GC, a burst of alerts); what overflows it the kernel drops and counts (ps_drop,
 *     kernelDropped). Memory never grows. Reads are sized to the room left in the slot, so a packet that was read
 *     always has a place; picket_dropped counts the ones that, against that, found none (expected 0).
 *   - Stop: a flag and a write to the eventfd. The thread reads what the kernel still holds (for one block
 *     timeout, so packets that arrived before stop are delivered), hands over the last partial batch, takes the
 *     final pcap_stats, queues an END item behind the batches and releases the threadsafe function. The END item
 *     runs on the JS thread after every batch: it joins the thread (which has nothing left to do) and closes the
 *     pcap handle, then tells JS the capture is over.
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pcap_dl.h"

/* PACKET_FANOUT (linux/if_packet.h): several packet sockets on one device share its packets, each packet going to
 * one socket of the group. Defined here when the header is older than the constants (values are kernel ABI). */
#if defined(__has_include)
#if __has_include(<linux/if_packet.h>)
#include <linux/if_packet.h>
#endif
#endif
#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif
#ifndef PACKET_FANOUT
#define PACKET_FANOUT 18
#endif
#ifndef PACKET_FANOUT_HASH
#define PACKET_FANOUT_HASH 0
#endif
#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID 0x2000
#endif
#ifndef PACKET_FANOUT_FLAG_DEFRAG
#define PACKET_FANOUT_FLAG_DEFRAG 0x8000
#endif
/* What picket's fanout groups spread by: the kernel's flow hash of the packet (symmetric in source and destination
 * since Linux 4.x: __skb_get_hash_symmetric), IPv4 fragments reassembled first so that they hash like their flow. */
#define PICKET_FANOUT_MODE (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG)

#define MAX_SLOTS 64
/* Arrays of a slot, in the order JS passes them: data, offset, caplen, origlen, tsSec, tsNsec, linktype. */
#define SLOT_ARRAYS 7
#define STATS_EVERY_MS 100

enum slot_state { SLOT_FREE = 0, SLOT_FILLING, SLOT_WITH_JS };
enum run_state { ST_OPEN = 0, ST_RUNNING, ST_ENDED, ST_CLOSED };

typedef struct {
  uint8_t *data;
  size_t data_cap;
  int32_t *offset, *caplen, *origlen;
  double *ts_sec;
  uint32_t *ts_nsec;
  uint16_t *linktype;
  napi_ref refs[SLOT_ARRAYS];
  /* Written by the capture thread while FILLING, read by JS while WITH_JS. */
  uint32_t count;
  size_t used;
  double first_ordinal;
  int64_t first_mono_ms;
  int state; /* guarded by capture.mu */
} slot_t;

typedef struct capture {
  pcap_t *pcap;
  char iface[256];
  int linktype;
  int nano; /* libpcap gives nanosecond timestamps */
  int timeout_ms;
  int fanout_id; /* the PACKET_FANOUT group the socket joined, -1 for none */

  int nslots;
  int snaplen;
  slot_t slots[MAX_SLOTS];
  uint32_t batch_packets;
  int64_t flush_ms;
  pthread_mutex_t mu;

  /* Capture thread only. */
  int cur; /* slot being filled, -1 for none */
  uint64_t next_ordinal;
  int64_t last_stats_ms;

  _Atomic uint64_t received, picket_dropped, batches, kernel_dropped, if_dropped, pcap_received;
  atomic_int stop_requested;
  int wake_fd;

  pthread_t thread;
  int thread_started, thread_joined;
  napi_threadsafe_function tsfn;
  napi_env env;
  int state;
  int cleanup_hook;
  char error[PCAP_ERRBUF_SIZE + 512]; /* set by the capture thread before END */
} capture_t;

static void free_slot(capture_t *c, slot_t *s);

/* The END item: a fixed address that cannot be a slot. */
static char END_ITEM;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------- errors ---------- */

static napi_value throw_coded(napi_env env, const char *code, const char *msg) {
  napi_value c, m, err;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, c, m, &err);
  napi_throw(env, err);
  return NULL;
}

#define CHECK(call)                                                                                                   \
  do {                                                                                                                \
    if ((call) != napi_ok) {                                                                                          \
      const napi_extended_error_info *info_;                                                                          \
      napi_get_last_error_info(env, &info_);                                                                          \
      bool pending_;                                                                                                  \
      napi_is_exception_pending(env, &pending_);                                                                      \
      if (!pending_) throw_coded(env, "ENAPI", info_->error_message ? info_->error_message : #call " failed");        \
      return NULL;                                                                                                    \
    }                                                                                                                 \
  } while (0)

/* ---------- small property helpers ---------- */

static int get_prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, name, out) != napi_ok) return 0;
  napi_valuetype t;
  napi_typeof(env, *out, &t);
  return t != napi_undefined && t != napi_null;
}

static int get_int(napi_env env, napi_value obj, const char *name, int64_t dflt, int64_t *out) {
  napi_value v;
  *out = dflt;
  if (!get_prop(env, obj, name, &v)) return 1;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return 0;
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static void set_bool(napi_env env, napi_value obj, const char *name, bool v) {
  napi_value b;
  napi_get_boolean(env, v, &b);
  napi_set_named_property(env, obj, name, b);
}

static void set_str(napi_env env, napi_value obj, const char *name, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, name, v);
}

static capture_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_unwrap(env, v, &p) != napi_ok) return NULL;
  return (capture_t *)p;
}

/* ---------- slots ---------- */

static void release_slot_refs(napi_env env, capture_t *c) {
  for (int i = 0; i < c->nslots; i++) {
    for (int k = 0; k < SLOT_ARRAYS; k++) {
      if (c->slots[i].refs[k] != NULL) {
        napi_delete_reference(env, c->slots[i].refs[k]);
        c->slots[i].refs[k] = NULL;
      }
    }
  }
}

/* Capture thread: a FREE slot to fill, or -1. */
static int acquire_slot(capture_t *c) {
  int got = -1;
  pthread_mutex_lock(&c->mu);
  for (int i = 0; i < c->nslots; i++) {
    if (c->slots[i].state == SLOT_FREE) {
      c->slots[i].state = SLOT_FILLING;
      got = i;
      break;
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (got >= 0) {
    c->slots[got].count = 0;
    c->slots[got].used = 0;
  }
  return got;
}

/* Capture thread: hand the slot being filled to JS. Needs no free slot, so it never fails for lack of one. */
static void hand_over(capture_t *c) {
  if (c->cur < 0) return;
  slot_t *s = &c->slots[c->cur];
  c->cur = -1;
  if (s->count == 0) {
    pthread_mutex_lock(&c->mu);
    s->state = SLOT_FREE;
    pthread_mutex_unlock(&c->mu);
    return;
  }
  pthread_mutex_lock(&c->mu);
  s->state = SLOT_WITH_JS;
  pthread_mutex_unlock(&c->mu);
  atomic_fetch_add_explicit(&c->batches, 1, memory_order_relaxed);
  /* The queue is unbounded, but never holds more than K batches and the END item: each is a distinct slot. */
  if (napi_call_threadsafe_function(c->tsfn, s, napi_tsfn_nonblocking) != napi_ok) {
    /* The environment is going away (napi_closing): nobody will read the slot; stop capturing. */
    atomic_store(&c->stop_requested, 1);
  }
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  capture_t *c = (capture_t *)user;
  atomic_fetch_add_explicit(&c->received, 1, memory_order_relaxed);
  uint32_t len = h->caplen;
  if (c->cur >= 0) {
    slot_t *s = &c->slots[c->cur];
    if (s->used + len > s->data_cap) hand_over(c);
  }
  if (c->cur < 0) {
    c->cur = acquire_slot(c);
    if (c->cur < 0) {
      /* Every slot is with JS: JavaScript is behind. Count and discard, keep the kernel ring moving. */
      atomic_fetch_add_explicit(&c->picket_dropped, 1, memory_order_relaxed);
      return;
    }
  }
  slot_t *s = &c->slots[c->cur];
  uint32_t i = s->count;
  if (i == 0) {
    s->first_ordinal = (double)c->next_ordinal;
    s->first_mono_ms = mono_ms();
  }
  if (len > s->data_cap) len = (uint32_t)s->data_cap; /* cannot happen: start() checks data_cap >= snaplen */
  memcpy(s->data + s->used, bytes, len);
  s->offset[i] = (int32_t)s->used;
  s->caplen[i] = (int32_t)len;
  s->origlen[i] = (int32_t)h->len;
  s->ts_sec[i] = (double)h->ts.tv_sec;
  s->ts_nsec[i] = c->nano ? (uint32_t)h->ts.tv_usec : (uint32_t)h->ts.tv_usec * 1000u;
  s->linktype[i] = (uint16_t)c->linktype;
  s->used += len;
  s->count = i + 1;
  c->next_ordinal++;
  if (s->count >= c->batch_packets) hand_over(c);
}

/* Capture thread: a slot being filled with room for at least one packet of snaplen bytes. Returns how many packets
 * may be read into it now (bounded by its free bytes and count), or 0 when every slot is with JavaScript. */
static int make_room(capture_t *c) {
  if (c->cur >= 0) {
    slot_t *s = &c->slots[c->cur];
    if (s->data_cap - s->used < (size_t)c->snaplen || s->count >= c->batch_packets) hand_over(c);
  }
  if (c->cur < 0) c->cur = acquire_slot(c);
  if (c->cur < 0) return 0;
  slot_t *s = &c->slots[c->cur];
  size_t by_bytes = (s->data_cap - s->used) / (size_t)c->snaplen;
  size_t by_count = c->batch_packets - s->count;
  size_t n = by_bytes < by_count ? by_bytes : by_count;
  return n < 1 ? 1 : (n > 0x7fffffff ? 0x7fffffff : (int)n);
}

static void refresh_stats(capture_t *c) {
  struct pcap_stat ps;
  if (pcap_stats(c->pcap, &ps) == 0) {
    atomic_store_explicit(&c->kernel_dropped, ps.ps_drop, memory_order_relaxed);
    atomic_store_explicit(&c->if_dropped, ps.ps_ifdrop, memory_order_relaxed);
    atomic_store_explicit(&c->pcap_received, ps.ps_recv, memory_order_relaxed);
  }
}

/* Flush a batch that has waited flush_ms, so quiet links still deliver promptly; returns ms until the next such
 * deadline (or `cap`). */
static int housekeeping(capture_t *c, int cap) {
  int64_t now = mono_ms();
  int wait = cap;
  if (c->cur >= 0 && c->slots[c->cur].count > 0) {
    int64_t due = c->slots[c->cur].first_mono_ms + c->flush_ms;
    if (now >= due) hand_over(c);
    else if (due - now < wait) wait = (int)(due - now);
  }
  if (now - c->last_stats_ms >= STATS_EVERY_MS) {
    refresh_stats(c);
    c->last_stats_ms = now;
  }
  int64_t stats_due = c->last_stats_ms + STATS_EVERY_MS - now;
  if (stats_due < wait) wait = stats_due < 0 ? 0 : (int)stats_due;
  return wait;
}

static void wait_readable(capture_t *c, int fd, int timeout_ms) {
  struct pollfd pf[2] = {{.fd = fd, .events = POLLIN}, {.fd = c->wake_fd, .events = POLLIN}};
  int n = poll(pf, 2, timeout_ms);
  if (n > 0 && (pf[1].revents & POLLIN)) {
    uint64_t v;
    ssize_t r = read(c->wake_fd, &v, sizeof v);
    (void)r;
  }
}

static void *capture_main(void *arg) {
  capture_t *c = (capture_t *)arg;
  int fd = pcap_get_selectable_fd(c->pcap);
  int failed = 0;
  c->last_stats_ms = mono_ms();
  while (!atomic_load(&c->stop_requested)) {
    int room = make_room(c);
    if (room == 0) {
      /* JavaScript holds every slot: leave the packets in the kernel ring until it gives one back (it writes
       * the eventfd when it does); keep the stats fresh meanwhile. */
      wait_readable(c, -1, housekeeping(c, STATS_EVERY_MS));
      continue;
    }
    int n = pcap_dispatch(c->pcap, room, on_packet, (u_char *)c);
    if (n < 0) {
      if (n == PCAP_ERROR_BREAK) continue;
      snprintf(c->error, sizeof c->error, "%s: capture failed: %s", c->iface, pcap_geterr(c->pcap));
      failed = 1;
      break;
    }
    int wait = housekeeping(c, STATS_EVERY_MS);
    if (n == 0) wait_readable(c, fd, wait);
  }
  if (!failed) {
    /* Packets that arrived before stop may sit in a kernel block that has not been retired yet: the kernel
     * retires it within timeout_ms, so keep reading that long (plus a margin) before the last batch. */
    int64_t deadline = mono_ms() + c->timeout_ms + 30;
    for (;;) {
      int room = make_room(c);
      if (room == 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) break;
        wait_readable(c, -1, left < 5 ? (int)left : 5);
        continue;
      }
      int n = pcap_dispatch(c->pcap, room, on_packet, (u_char *)c);
      if (n < 0) {
        if (n == PCAP_ERROR_BREAK) continue;
        snprintf(c->error, sizeof c->error, "%s: capture failed: %s", c->iface, pcap_geterr(c->pcap));
        break;
      }
      int64_t left = deadline - mono_ms();
      if (left <= 0) break;
      if (n == 0) wait_readable(c, fd, (int)left);
    }
  }
  hand_over(c);
  refresh_stats(c);
  napi_call_threadsafe_function(c->tsfn, &END_ITEM, napi_tsfn_nonblocking);
  napi_release_threadsafe_function(c->tsfn, napi_tsfn_release);
  return NULL;
}

/* JS thread, or env teardown: wait for the capture thread and close libpcap. */
static void finish(capture_t *c) {
  if (c->thread_started && !c->thread_joined) {
    atomic_store(&c->stop_requested, 1);
    uint64_t one = 1;
    ssize_t r = write(c->wake_fd, &one, sizeof one);
    (void)r;
    pthread_join(c->thread, NULL);
    c->thread_joined = 1;
  }
  if (c->pcap != NULL) {
    pcap_close(c->pcap);
    c->pcap = NULL;
  }
  if (c->wake_fd >= 0) {
    close(c->wake_fd);
    c->wake_fd = -1;
  }
}

static void env_cleanup(void *arg) {
  capture_t *c = (capture_t *)arg;
  c->cleanup_hook = 0;
  finish(c);
  c->state = ST_CLOSED;
}

static napi_value stats_object(napi_env env, capture_t *c) {
  napi_value o;
  if (napi_create_object(env, &o) != napi_ok) return NULL;
  set_num(env, o, "received", (double)atomic_load(&c->received));
  set_num(env, o, "kernelDropped", (double)atomic_load(&c->kernel_dropped));
  set_num(env, o, "ifDropped", (double)atomic_load(&c->if_dropped));
  set_num(env, o, "picketDropped", (double)atomic_load(&c->picket_dropped));
  set_num(env, o, "batches", (double)atomic_load(&c->batches));
  set_num(env, o, "pcapReceived", (double)atomic_load(&c->pcap_received));
  return o;
}

/* The threadsafe function's body, on the JS thread: cb(slot, count, firstOrdinal) for a batch, cb(-1, 0, 0,
 * error|null, stats) at the end. */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  capture_t *c = (capture_t *)context;
  if (env == NULL) return; /* the environment is being torn down */
  napi_value undefined, argv[5];
  napi_get_undefined(env, &undefined);
  if (data == &END_ITEM) {
    finish(c);
    c->state = ST_ENDED;
    if (c->cleanup_hook) {
      napi_remove_env_cleanup_hook(env, env_cleanup, c);
      c->cleanup_hook = 0;
    }
    napi_create_int32(env, -1, &argv[0]);
    napi_create_int32(env, 0, &argv[1]);
    napi_create_double(env, 0, &argv[2]);
    if (c->error[0] != '\0') napi_create_string_utf8(env, c->error, NAPI_AUTO_LENGTH, &argv[3]);
    else napi_get_null(env, &argv[3]);
    argv[4] = stats_object(env, c);
    napi_call_function(env, undefined, js_cb, 5, argv, NULL);
    release_slot_refs(env, c);
    return;
  }
  slot_t *s = (slot_t *)data;
  napi_create_int32(env, (int32_t)(s - c->slots), &argv[0]);
  napi_create_uint32(env, s->count, &argv[1]);
  napi_create_double(env, s->first_ordinal, &argv[2]);
  napi_value ret = NULL;
  napi_call_function(env, undefined, js_cb, 3, argv, &ret);
  /* The batch was valid during the call only, unless the callback returned true: then JavaScript holds the slot
   * (its packets wait for a worker) and gives it back with release(). */
  bool hold = false;
  if (ret != NULL) napi_get_value_bool(env, ret, &hold);
  if (!hold) free_slot(c, s);
}

/* JS thread: a slot is free again; wake the capture thread in case it was waiting for one. */
static void free_slot(capture_t *c, slot_t *s) {
  pthread_mutex_lock(&c->mu);
  s->state = SLOT_FREE;
  pthread_mutex_unlock(&c->mu);
  if (c->wake_fd < 0) return; /* the capture has ended and closed its eventfd: nobody waits */
  uint64_t one = 1;
  ssize_t w = write(c->wake_fd, &one, sizeof one);
  (void)w;
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  (void)hint;
}

static void capture_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  capture_t *c = (capture_t *)data;
  if (c->cleanup_hook) {
    napi_remove_env_cleanup_hook(env, env_cleanup, c);
    c->cleanup_hook = 0;
  }
  /* Reached only when nothing in JS can see the handle: the END item (which holds it through the callback) has
   * run, or capture was never started. */
  finish(c);
  release_slot_refs(env, c);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* ---------- open(options) ---------- */

static napi_value open_error(napi_env env, capture_t *c, const char *code, const char *msg) {
  if (c->pcap != NULL) {
    pcap_close(c->pcap);
    c->pcap = NULL;
  }
  pthread_mutex_destroy(&c->mu);
  free(c);
  return throw_coded(env, code, msg);
}

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], opts;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_coded(env, "EINVAL", "open(options) needs an options object");
  const char *missing = pcap_dl_load();
  if (missing != NULL) return throw_coded(env, "ENOLIBPCAP", missing);
  opts = argv[0];

  napi_value v;
  char iface[256] = {0};
  size_t len = 0;
  if (!get_prop(env, opts, "iface", &v) || napi_get_value_string_utf8(env, v, iface, sizeof iface, &len) != napi_ok ||
      len == 0)
    return throw_coded(env, "EINVAL", "an interface name is required");
  int64_t snaplen, buffer_mb, promisc_i, timeout_ms;
  if (!get_int(env, opts, "snaplen", 65535, &snaplen) || snaplen < 64 || snaplen > 262144)
    return throw_coded(env, "EINVAL", "snaplen must be a number from 64 to 262144");
  if (!get_int(env, opts, "bufferMb", 64, &buffer_mb) || buffer_mb < 1 || buffer_mb > 2047)
    return throw_coded(env, "EINVAL", "bufferMb must be a number from 1 to 2047");
  if (!get_int(env, opts, "timeoutMs", 20, &timeout_ms) || timeout_ms < 1 || timeout_ms > 1000)
    return throw_coded(env, "EINVAL", "timeoutMs must be a number from 1 to 1000");
  /* fanout: absent or -1 for a socket of its own; -2 to found a new group (the kernel picks an id no other group in
   * this network namespace has; 0 is a valid id); 0..65535 to join that group. */
  int64_t fanout;
  if (!get_int(env, opts, "fanout", -1, &fanout) || fanout < -2 || fanout > 0xffff)
    return throw_coded(env, "EINVAL", "fanout must be -1 (none), -2 (a new group) or a group id from 0 to 65535");
  promisc_i = 0;
  if (get_prop(env, opts, "promisc", &v)) {
    bool b = false;
    if (napi_get_value_bool(env, v, &b) != napi_ok) return throw_coded(env, "EINVAL", "promisc must be a boolean");
    promisc_i = b ? 1 : 0;
  }
  char *filter = NULL;
  if (get_prop(env, opts, "bpf", &v)) {
    size_t flen = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &flen) != napi_ok)
      return throw_coded(env, "EINVAL", "bpf must be a string");
    filter = malloc(flen + 1);
    if (filter == NULL) return throw_coded(env, "ENOMEM", "out of memory");
    napi_get_value_string_utf8(env, v, filter, flen + 1, &flen);
  }

  capture_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    free(filter);
    return throw_coded(env, "ENOMEM", "out of memory");
  }
  pthread_mutex_init(&c->mu, NULL);
  c->wake_fd = -1;
  c->cur = -1;
  c->timeout_ms = (int)timeout_ms;
  snprintf(c->iface, sizeof c->iface, "%s", iface);

  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  char msg[PCAP_ERRBUF_SIZE + 1024];
  c->pcap = pcap_create(iface, errbuf);
  if (c->pcap == NULL) {
    free(filter);
    snprintf(msg, sizeof msg, "%s: %s", iface, errbuf);
    return open_error(env, c, "EPCAP", msg);
  }
  pcap_set_snaplen(c->pcap, (int)snaplen);
  pcap_set_promisc(c->pcap, (int)promisc_i);
  /* Not immediate mode: libpcap then uses TPACKET_V3, whose kernel blocks are handed over whole (far fewer
   * wake-ups at high rates); the block timeout bounds how long a packet waits on a quiet link. */
  pcap_set_immediate_mode(c->pcap, 0);
  pcap_set_timeout(c->pcap, (int)timeout_ms);
  pcap_set_buffer_size(c->pcap, (int)(buffer_mb << 20));
  c->nano = pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO) == 0;

  int rc = pcap_activate(c->pcap);
  if (rc < 0) {
    free(filter);
    const char *code = "EPCAP";
    switch (rc) {
      case PCAP_ERROR_PERM_DENIED:
      case PCAP_ERROR_PROMISC_PERM_DENIED:
        code = "EPERM";
        break;
      case PCAP_ERROR_NO_SUCH_DEVICE:
        code = "ENODEV";
        break;
      case PCAP_ERROR_IFACE_NOT_UP:
        code = "ENETDOWN";
        break;
      default:
        break;
    }
    const char *detail = pcap_geterr(c->pcap);
    snprintf(msg, sizeof msg, "%s: %s%s%s", iface, pcap_statustostr(rc), detail[0] ? ": " : "", detail);
    return open_error(env, c, code, msg);
  }
  if (pcap_get_tstamp_precision(c->pcap) != PCAP_TSTAMP_PRECISION_NANO) c->nano = 0;
  c->linktype = pcap_datalink(c->pcap);
  c->fanout_id = -1;
  if (fanout != -1) {
    /* On Linux libpcap's selectable descriptor is its packet socket, bound to the device by pcap_activate: the
     * group can be joined now. */
    int fd = pcap_get_selectable_fd(c->pcap);
    int val = fanout == -2 ? ((PICKET_FANOUT_MODE | PACKET_FANOUT_FLAG_UNIQUEID) << 16)
                          : ((int)fanout | (PICKET_FANOUT_MODE << 16));
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, sizeof val) != 0) {
      free(filter);
      snprintf(msg, sizeof msg, "%s: cannot join packet fanout group %s: %s", iface, fanout == -2 ? "(new)" : "(given)",
               fd < 0 ? "no packet socket" : strerror(errno));
      return open_error(env, c, "EFANOUT", msg);
    }
    socklen_t vlen = sizeof val;
    if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, &vlen) != 0) {
      free(filter);
      snprintf(msg, sizeof msg, "%s: cannot read the packet fanout group back: %s", iface, strerror(errno));
      return open_error(env, c, "EFANOUT", msg);
    }
    c->fanout_id = val & 0xffff;
  }

  if (filter != NULL && filter[0] != '\0') {
    struct bpf_program prog;
    /* The netmask only matters for "ip broadcast"; an interface may have no IPv4 address to take it from. */
    if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
      snprintf(msg, sizeof msg, "bad BPF filter \"%s\": %s", filter, pcap_geterr(c->pcap));
      free(filter);
      return open_error(env, c, "EBPF", msg);
    }
    int frc = pcap_setfilter(c->pcap, &prog);
    pcap_freecode(&prog);
    if (frc != 0) {
      snprintf(msg, sizeof msg, "cannot set BPF filter \"%s\" on %s: %s", filter, iface, pcap_geterr(c->pcap));
      free(filter);
      return open_error(env, c, "EBPF", msg);
    }
  }
  free(filter);
  if (pcap_setnonblock(c->pcap, 1, errbuf) != 0) {
    snprintf(msg, sizeof msg, "%s: cannot make the capture non-blocking: %s", iface, errbuf);
    return open_error(env, c, "EPCAP", msg);
  }
  if (pcap_get_selectable_fd(c->pcap) < 0) {
    snprintf(msg, sizeof msg, "%s: libpcap gives no descriptor to wait on", iface);
    return open_error(env, c, "EPCAP", msg);
  }

  napi_value handle;
  if (napi_create_object(env, &handle) != napi_ok || napi_wrap(env, handle, c, capture_finalize, NULL, NULL) != napi_ok)
    return open_error(env, c, "ENAPI", "cannot create the capture handle");
  /* From here the finalizer owns c. */
  set_num(env, handle, "linktype", c->linktype);
  set_bool(env, handle, "nanosecond", c->nano != 0);
  set_num(env, handle, "fanout", c->fanout_id);
  c->env = env;
  c->state = ST_OPEN;
  napi_add_env_cleanup_hook(env, env_cleanup, c);
  c->cleanup_hook = 1;
  return handle;
}

/* ---------- start(handle, slots, batchPackets, flushMs, cb) ---------- */

static int borrow_array(napi_env env, napi_value v, int k, slot_t *s, size_t want_elems) {
  void *ptr = NULL;
  size_t n = 0;
  if (k == 0) {
    bool is_buf = false;
    napi_is_buffer(env, v, &is_buf);
    if (!is_buf || napi_get_buffer_info(env, v, &ptr, &n) != napi_ok) return 0;
    s->data = ptr;
    s->data_cap = n;
  } else {
    static const napi_typedarray_type want[SLOT_ARRAYS] = {
        napi_uint8_array, napi_int32_array,   napi_int32_array,  napi_int32_array,
        napi_float64_array, napi_uint32_array, napi_uint16_array};
    bool is_ta = false;
    napi_typedarray_type t;
    napi_is_typedarray(env, v, &is_ta);
    if (!is_ta || napi_get_typedarray_info(env, v, &t, &n, &ptr, NULL, NULL) != napi_ok) return 0;
    if (t != want[k] || n < want_elems) return 0;
    switch (k) {
      case 1: s->offset = ptr; break;
      case 2: s->caplen = ptr; break;
      case 3: s->origlen = ptr; break;
      case 4: s->ts_sec = ptr; break;
      case 5: s->ts_nsec = ptr; break;
      default: s->linktype = ptr; break;
    }
  }
  return napi_create_reference(env, v, 1, &s->refs[k]) == napi_ok;
}

static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_coded(env, "EINVAL", "start(handle, slots, batchPackets, flushMs, cb)");
  capture_t *c = unwrap(env, argv[0]);
  if (c == NULL) return throw_coded(env, "EINVAL", "not a capture handle");
  if (c->state != ST_OPEN) return throw_coded(env, "ESTATE", "capture already started or stopped");

  uint32_t batch_packets, flush_ms, nslots;
  CHECK(napi_get_value_uint32(env, argv[2], &batch_packets));
  CHECK(napi_get_value_uint32(env, argv[3], &flush_ms));
  if (batch_packets < 1) return throw_coded(env, "EINVAL", "batchPackets must be at least 1");
  if (flush_ms < 1) flush_ms = 1;
  bool is_arr = false;
  napi_is_array(env, argv[1], &is_arr);
  if (!is_arr) return throw_coded(env, "EINVAL", "slots must be an array");
  CHECK(napi_get_array_length(env, argv[1], &nslots));
  if (nslots < 2 || nslots > MAX_SLOTS) return throw_coded(env, "EINVAL", "between 2 and 64 slots");
  int snaplen = pcap_snapshot(c->pcap);
  c->snaplen = snaplen > 0 ? snaplen : 65535;
  c->nslots = (int)nslots;
  for (uint32_t i = 0; i < nslots; i++) {
    napi_value slot;
    uint32_t n = 0;
    CHECK(napi_get_element(env, argv[1], i, &slot));
    napi_is_array(env, slot, &is_arr);
    if (!is_arr || napi_get_array_length(env, slot, &n) != napi_ok || n != SLOT_ARRAYS) {
      release_slot_refs(env, c);
      return throw_coded(env, "EINVAL", "a slot is [data, offset, caplen, origlen, tsSec, tsNsec, linktype]");
    }
    for (uint32_t k = 0; k < SLOT_ARRAYS; k++) {
      napi_value a;
      CHECK(napi_get_element(env, slot, k, &a));
      if (!borrow_array(env, a, (int)k, &c->slots[i], batch_packets)) {
        release_slot_refs(env, c);
        return throw_coded(env, "EINVAL", "a slot array has the wrong type or is shorter than batchPackets");
      }
    }
    if (c->slots[i].data_cap < (size_t)snaplen) {
      release_slot_refs(env, c);
      return throw_coded(env, "EINVAL", "a slot's data buffer is smaller than the snaplen");
    }
    c->slots[i].state = SLOT_FREE;
  }
  c->batch_packets = batch_packets;
  c->flush_ms = flush_ms;

  napi_value name;
  napi_create_string_utf8(env, "picket-live-capture", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[4], NULL, name, 0, 1, NULL, tsfn_finalize, c, call_js, &c->tsfn) !=
      napi_ok) {
    release_slot_refs(env, c);
    return throw_coded(env, "ENAPI", "cannot create the threadsafe function");
  }
  c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (c->wake_fd < 0) {
    napi_release_threadsafe_function(c->tsfn, napi_tsfn_abort);
    release_slot_refs(env, c);
    return throw_coded(env, "EPCAP", "eventfd failed");
  }
  if (pthread_create(&c->thread, NULL, capture_main, c) != 0) {
    napi_release_threadsafe_function(c->tsfn, napi_tsfn_abort);
    release_slot_refs(env, c);
    return throw_coded(env, "EPCAP", "cannot start the capture thread");
  }
  c->thread_started = 1;
  c->state = ST_RUNNING;
  /* Hooks run in reverse order of registration: registered after the threadsafe function's own, this one runs
   * first at environment teardown (process.exit during a capture), joining the thread while the function it
   * calls still exists. */
  if (c->cleanup_hook) napi_remove_env_cleanup_hook(env, env_cleanup, c);
  napi_add_env_cleanup_hook(env, env_cleanup, c);
  c->cleanup_hook = 1;
  return NULL;
}

/* ---------- stop, close, stats ---------- */

/* Asks the capture thread to finish; the END callback says when it has. Returns true if an END will come. */
static napi_value Stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  capture_t *c = argc >= 1 ? unwrap(env, argv[0]) : NULL;
  if (c == NULL) return throw_coded(env, "EINVAL", "not a capture handle");
  bool end_pending = false;
  if (c->state == ST_RUNNING && !atomic_load(&c->stop_requested)) {
    atomic_store(&c->stop_requested, 1);
    uint64_t one = 1;
    ssize_t r = write(c->wake_fd, &one, sizeof one);
    (void)r;
    end_pending = true;
  } else if (c->state == ST_RUNNING) {
    end_pending = true;
  } else if (c->state == ST_OPEN) {
    /* Never started: just close libpcap. */
    if (c->cleanup_hook) {
      napi_remove_env_cleanup_hook(env, env_cleanup, c);
      c->cleanup_hook = 0;
    }
    finish(c);
    c->state = ST_CLOSED;
  }
  napi_get_boolean(env, end_pending, &result);
  return result;
}

static napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  capture_t *c = argc >= 1 ? unwrap(env, argv[0]) : NULL;
  if (c == NULL) return throw_coded(env, "EINVAL", "not a capture handle");
  return stats_object(env, c);
}

/* release(handle, slot): give back a slot the batch callback held (it returned true). */
static napi_value Release(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  capture_t *c = argc >= 1 ? unwrap(env, argv[0]) : NULL;
  if (c == NULL) return throw_coded(env, "EINVAL", "not a capture handle");
  int32_t i = -1;
  if (argc < 2 || napi_get_value_int32(env, argv[1], &i) != napi_ok || i < 0 || i >= c->nslots) return throw_coded(env, "EINVAL", "not a slot index");
  pthread_mutex_lock(&c->mu);
  int held = c->slots[i].state == SLOT_WITH_JS;
  pthread_mutex_unlock(&c->mu);
  if (held) free_slot(c, &c->slots[i]);
  return NULL;
}

/* ---------- listInterfaces() ---------- */

static napi_value ListInterfaces(napi_env env, napi_callback_info info) {
  (void)info;
  const char *missing = pcap_dl_load();
  if (missing != NULL) return throw_coded(env, "ENOLIBPCAP", missing);
  pcap_if_t *all = NULL;
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  if (pcap_findalldevs(&all, errbuf) != 0) return throw_coded(env, "EPCAP", errbuf);
  napi_value arr;
  CHECK(napi_create_array(env, &arr));
  uint32_t i = 0;
  for (pcap_if_t *d = all; d != NULL; d = d->next) {
    napi_value o, addrs;
    napi_create_object(env, &o);
    set_str(env, o, "name", d->name);
    set_str(env, o, "description", d->description != NULL ? d->description : "");
    napi_create_array(env, &addrs);
    uint32_t j = 0;
    for (pcap_addr_t *a = d->addresses; a != NULL; a = a->next) {
      char text[INET6_ADDRSTRLEN] = {0};
      if (a->addr == NULL) continue;
      if (a->addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)a->addr)->sin_addr, text, sizeof text);
      } else if (a->addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a->addr)->sin6_addr, text, sizeof text);
      } else {
        continue; /* AF_PACKET link-layer entries */
      }
      napi_value s;
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &s);
      napi_set_element(env, addrs, j++, s);
    }
    napi_set_named_property(env, o, "addresses", addrs);
    set_bool(env, o, "up", (d->flags & PCAP_IF_UP) != 0);
    set_bool(env, o, "running", (d->flags & PCAP_IF_RUNNING) != 0);
    set_bool(env, o, "loopback", (d->flags & PCAP_IF_LOOPBACK) != 0);
    napi_set_element(env, arr, i++, o);
  }
  pcap_freealldevs(all);
  return arr;
}

static napi_value LibVersion(napi_env env, napi_callback_info info) {
  (void)info;
  const char *missing = pcap_dl_load();
  if (missing != NULL) return throw_coded(env, "ENOLIBPCAP", missing);
  napi_value s;
  CHECK(napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &s));
  return s;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, Start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, Stop, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, Release, NULL, NULL, NULL, napi_default, NULL},
      {"listInterfaces", NULL, ListInterfaces, NULL, NULL, NULL, napi_default, NULL},
      {"libVersion", NULL, LibVersion, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
