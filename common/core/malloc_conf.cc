// jemalloc's options for every sluice process: the top-level CMakeLists.txt
// links this definition into each binary it links with jemalloc, which reads
// it at start (the library's own `malloc_conf` is a weak default).
//
// Transparent huge pages for jemalloc's arenas and metadata: a 1M-record run
// first-touches gigabytes, and on a virtual machine a page fault is dear. In
// `bench/sqlite_e2e --rows 1000000` page faults were 29% of the deduper's CPU
// samples; with 2 MiB pages the whole run's CPU fell from 27-28 s to 24-25 s
// (the deduper's from 7.3-7.5 s to 4.9-5.2 s) for about 20-40 MiB more peak
// RSS per process (bench/README.md, 2026-12-07). The kernel honours it in its
// default `madvise` mode. The MALLOC_CONF environment variable still
// overrides it (jemalloc reads it after this), e.g. for heap profiles.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "thp:always,metadata_thp:always";
}
