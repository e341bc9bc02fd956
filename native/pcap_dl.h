/*
 * libpcap, loaded at run time.
 *
 * Why: the addon must build on a machine that has no libpcap headers yet (a fresh Debian where `npm ci` runs before
 * any apt-get), and must start working as soon as the shared library is installed, without a rebuild. So it is
 * compiled against the declarations below instead of <pcap/pcap.h> and links no -lpcap; pcap_dl_load() dlopen()s the
 * library on first use and the calls go through a table of function pointers. When the library is missing, the
 * error names the Debian package that brings it.
 *
 * The declarations are libpcap's stable public ABI (the same since libpcap 1.0; pcap_set_tstamp_precision and
 * pcap_get_tstamp_precision since 1.5, and Debian 12 ships 1.10): struct layouts and constants as in pcap/pcap.h.
 * Only what picket uses is declared.
 */
#ifndef PICKET_PCAP_DL_H
#define PICKET_PCAP_DL_H

#include <dlfcn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

typedef unsigned int bpf_u_int32;
typedef struct pcap pcap_t;

struct pcap_pkthdr {
  struct timeval ts;
  bpf_u_int32 caplen;
  bpf_u_int32 len;
};

struct bpf_insn;
struct bpf_program {
  unsigned int bf_len;
  struct bpf_insn *bf_insns;
};

struct pcap_stat {
  unsigned int ps_recv;
  unsigned int ps_drop;
  unsigned int ps_ifdrop;
};

typedef struct pcap_addr {
  struct pcap_addr *next;
  struct sockaddr *addr;
  struct sockaddr *netmask;
  struct sockaddr *broadaddr;
  struct sockaddr *dstaddr;
} pcap_addr_t;

typedef struct pcap_if {
  struct pcap_if *next;
  char *name;
  char *description;
  struct pcap_addr *addresses;
  bpf_u_int32 flags;
} pcap_if_t;

typedef void (*pcap_handler)(unsigned char *, const struct pcap_pkthdr *, const unsigned char *);

#define PCAP_ERRBUF_SIZE 256
#define PCAP_IF_LOOPBACK 0x00000001
#define PCAP_IF_UP 0x00000002
#define PCAP_IF_RUNNING 0x00000004
#define PCAP_ERROR_BREAK -2
#define PCAP_ERROR_NO_SUCH_DEVICE -5
#define PCAP_ERROR_PERM_DENIED -8
#define PCAP_ERROR_IFACE_NOT_UP -9
#define PCAP_ERROR_PROMISC_PERM_DENIED -11
#define PCAP_NETMASK_UNKNOWN 0xffffffff
#define PCAP_TSTAMP_PRECISION_NANO 1

/* One entry per function: X(return type, name, parameter list). */
#define PICKET_PCAP_FUNCTIONS(X)                                                                                       \
  X(pcap_t *, pcap_create, (const char *, char *))                                                                     \
  X(int, pcap_set_snaplen, (pcap_t *, int))                                                                            \
  X(int, pcap_set_promisc, (pcap_t *, int))                                                                            \
  X(int, pcap_set_immediate_mode, (pcap_t *, int))                                                                     \
  X(int, pcap_set_timeout, (pcap_t *, int))                                                                            \
  X(int, pcap_set_buffer_size, (pcap_t *, int))                                                                        \
  X(int, pcap_set_tstamp_precision, (pcap_t *, int))                                                                   \
  X(int, pcap_get_tstamp_precision, (pcap_t *))                                                                        \
  X(int, pcap_activate, (pcap_t *))                                                                                    \
  X(int, pcap_datalink, (pcap_t *))                                                                                    \
  X(int, pcap_snapshot, (pcap_t *))                                                                                    \
  X(int, pcap_compile, (pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32))                              \
  X(int, pcap_setfilter, (pcap_t *, struct bpf_program *))                                                             \
  X(void, pcap_freecode, (struct bpf_program *))                                                                       \
  X(int, pcap_setnonblock, (pcap_t *, int, char *))                                                                    \
  X(int, pcap_get_selectable_fd, (pcap_t *))                                                                           \
  X(int, pcap_dispatch, (pcap_t *, int, pcap_handler, unsigned char *))                                                \
  X(int, pcap_stats, (pcap_t *, struct pcap_stat *))                                                                   \
  X(char *, pcap_geterr, (pcap_t *))                                                                                   \
  X(const char *, pcap_statustostr, (int))                                                                             \
  X(void, pcap_close, (pcap_t *))                                                                                      \
  X(int, pcap_findalldevs, (pcap_if_t **, char *))                                                                     \
  X(void, pcap_freealldevs, (pcap_if_t *))                                                                             \
  X(const char *, pcap_lib_version, (void))

/* f_ ## name: token pasting keeps the names below from being expanded by the call macros. */
#define PICKET_PCAP_POINTER(ret, name, params) ret(*f_##name) params;
static struct {
  PICKET_PCAP_FUNCTIONS(PICKET_PCAP_POINTER)
} pcap_fn;
#undef PICKET_PCAP_POINTER

/* The rest of the addon calls libpcap by its usual names. */
#define pcap_create pcap_fn.f_pcap_create
#define pcap_set_snaplen pcap_fn.f_pcap_set_snaplen
#define pcap_set_promisc pcap_fn.f_pcap_set_promisc
#define pcap_set_immediate_mode pcap_fn.f_pcap_set_immediate_mode
#define pcap_set_timeout pcap_fn.f_pcap_set_timeout
#define pcap_set_buffer_size pcap_fn.f_pcap_set_buffer_size
#define pcap_set_tstamp_precision pcap_fn.f_pcap_set_tstamp_precision
#define pcap_get_tstamp_precision pcap_fn.f_pcap_get_tstamp_precision
#define pcap_activate pcap_fn.f_pcap_activate
#define pcap_datalink pcap_fn.f_pcap_datalink
#define pcap_snapshot pcap_fn.f_pcap_snapshot
#define pcap_compile pcap_fn.f_pcap_compile
#define pcap_setfilter pcap_fn.f_pcap_setfilter
#define pcap_freecode pcap_fn.f_pcap_freecode
#define pcap_setnonblock pcap_fn.f_pcap_setnonblock
#define pcap_get_selectable_fd pcap_fn.f_pcap_get_selectable_fd
#define pcap_dispatch pcap_fn.f_pcap_dispatch
#define pcap_stats pcap_fn.f_pcap_stats
#define pcap_geterr pcap_fn.f_pcap_geterr
#define pcap_statustostr pcap_fn.f_pcap_statustostr
#define pcap_close pcap_fn.f_pcap_close
#define pcap_findalldevs pcap_fn.f_pcap_findalldevs
#define pcap_freealldevs pcap_fn.f_pcap_freealldevs
#define pcap_lib_version pcap_fn.f_pcap_lib_version

/*
 * Opens libpcap and resolves every function, once. Returns NULL when ready, or why not (a static message). Called
 * on the JS thread only (open, listInterfaces, libVersion), so it needs no lock; the capture thread starts after
 * a successful open.
 */
static const char *pcap_dl_load(void) {
  static int loaded = 0;
  static char why[512];
  if (loaded) return NULL;
  /* Debian's runtime package (libpcap0.8) ships only the soname libpcap.so.0.8; other distributions use .so.1,
   * and the unversioned name exists where the -dev package is installed. */
  static const char *const names[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"};
  void *lib = NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0] && lib == NULL; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    snprintf(why, sizeof why,
             "libpcap is not installed (no libpcap.so.0.8, libpcap.so.1 or libpcap.so could be loaded): "
             "apt-get install libpcap0.8");
    return why;
  }
#define PICKET_PCAP_RESOLVE(ret, name, params)                                                                         \
  *(void **)(&pcap_fn.f_##name) = dlsym(lib, #name);                                                                      \
  if (pcap_fn.f_##name == NULL) {                                                                                          \
    snprintf(why, sizeof why, "the libpcap found lacks %s (libpcap 1.5 or later is needed)", #name);                   \
    dlclose(lib);                                                                                                      \
    return why;                                                                                                        \
  }
  PICKET_PCAP_FUNCTIONS(PICKET_PCAP_RESOLVE)
#undef PICKET_PCAP_RESOLVE
  loaded = 1;
  return NULL;
}

#endif
