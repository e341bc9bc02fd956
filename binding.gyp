{
  "targets": [
    {
      "target_name": "pcap_capture",
      "sources": ["native/pcap_capture.c"],
      "libraries": ["-ldl", "-lpthread"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
