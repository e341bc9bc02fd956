{
  "targets": [
    {
      "target_name": "pcap_capture",
      "sources": ["native/pcap_capture.c"],
      "libraries": ["-ldl", "-lpthread"],
      "cflags_c": ["-std=gnu11", "-O2", "-D_FORTIFY_SOURCE=2", "-fstack-protector-strong", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,-z,relro", "-Wl,-z,now"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
