/* dumpsleuth: opening a dump and the format-independent description every reader fills. */
#ifndef DUMPSLEUTH_DUMP_H
#define DUMPSLEUTH_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpsleuth/diag.h"
#include "dumpsleuth/vmem.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DS_LIB_VERSION "0.1.0"

typedef enum ds_format {
    DS_FMT_UNKNOWN = 0,
    DS_FMT_MINIDUMP, /* Windows MDMP (also Breakpad/Crashpad minidumps) */
    DS_FMT_ELFCORE,  /* user-space ELF core (kernel, gdb gcore, createdump) */
    DS_FMT_KDUMP /* kernel crash dump through libkdumpfile (kdump-compressed, diskdump, ELF vmcore)
                  */
} ds_format;

typedef enum ds_arch {
    DS_ARCH_UNKNOWN = 0,
    DS_ARCH_X86,
    DS_ARCH_AMD64,
    DS_ARCH_ARM,
    DS_ARCH_ARM64,
    DS_ARCH_PPC,
    DS_ARCH_PPC64,
    DS_ARCH_MIPS,
    DS_ARCH_S390X,
    DS_ARCH_RISCV64,
    DS_ARCH_OTHER
} ds_arch;

typedef enum ds_os {
    DS_OS_UNKNOWN = 0,
    DS_OS_WINDOWS,
    DS_OS_LINUX,
    DS_OS_MACOS,
    DS_OS_ANDROID,
    DS_OS_OTHER
} ds_os;

/* What kind of dump this is: decides which analyses can run. */
typedef enum ds_dump_kind {
    DS_KIND_UNKNOWN = 0,
    DS_KIND_FULL,      /* all committed memory captured */
    DS_KIND_WITH_HEAP, /* most writable memory captured (MiniDumpWithPrivateReadWriteMemory,
                          createdump -h) */
    DS_KIND_MINI,      /* stacks and a few ranges only */
    DS_KIND_TRIAGE,    /* triage/filtered dump */
    DS_KIND_KERNEL     /* kernel crash dump */
} ds_dump_kind;

typedef struct ds_system {
    ds_arch arch;             /* the process's architecture as dumped (AMD64 for WoW64 dumps) */
    unsigned ptr_size;        /* 4 or 8: pointer size of the dump's contexts/structures */
    bool wow64;               /* 32-bit process dumped by a 64-bit dumper */
    unsigned target_ptr_size; /* pointer size of the process's own code (4 under WoW64) */
    ds_os os;
    uint32_t os_major, os_minor, os_build;
    uint32_t platform_id;  /* VER_PLATFORM_*; 0 when unknown */
    uint32_t product_type; /* VER_NT_WORKSTATION = 1, ... */
    uint16_t suite_mask;
    char csd[128];     /* service pack / CSD string, UTF-8 */
    char os_text[160]; /* free text: "Windows 10 (10.0.19041)", Linux release, ... */
    uint32_t cpu_count;
    uint32_t cpu_level, cpu_revision;
    char cpu_vendor[16];
} ds_system;

typedef struct ds_codeview {
    int kind; /* 0 none, 1 RSDS (PDB 7.0), 2 NB10 (PDB 2.0), 3 ELF build-id */
    uint8_t guid[16];
    uint32_t signature; /* NB10 */
    uint32_t age;
    char pdb[260];        /* UTF-8 */
    uint8_t build_id[64]; /* ELF build id */
    uint32_t build_id_len;
} ds_codeview;

typedef struct ds_version {
    bool valid;
    uint16_t v[4]; /* major.minor.build.revision */
} ds_version;

typedef struct ds_module {
    uint64_t base;
    uint64_t size;
    uint32_t checksum;
    uint32_t timestamp;
    char *path;       /* full path as recorded, UTF-8 (owned) */
    const char *name; /* points into path: the file name */
    ds_version file_version, product_version;
    uint32_t file_flags, file_os, file_type;
    ds_codeview cv;
    bool unloaded;
    bool managed;       /* has a CLR (COR20) header: filled by ds_dump_enrich_modules */
    bool image_checked; /* the in-memory image was examined */
} ds_module;

typedef struct ds_thread {
    uint32_t tid;         /* Windows thread id / Linux LWP */
    uint64_t teb;         /* TEB (64-bit TEB under WoW64); 0 for Linux */
    uint64_t teb32;       /* WoW64: the 32-bit TEB; 0 otherwise */
    uint64_t stack_start; /* captured stack memory [start, start+size) from the thread record */
    uint64_t stack_size;
    uint64_t stack_base, stack_limit; /* from the TEB NT_TIB when readable (base > limit) */
    bool has_tib;
    uint32_t suspend_count;
    uint32_t priority_class, priority;
    bool has_info; /* the ThreadInfoList fields below are valid */
    uint32_t dump_flags, dump_error, exit_status;
    uint64_t create_time, exit_time, kernel_time, user_time; /* FILETIME units */
    uint64_t start_address, affinity;
    bool has_context;
    const uint8_t *context; /* raw CONTEXT / prstatus regs in the mapped file (zero-copy) */
    uint32_t context_size;
    uint64_t pc, sp, fp;
    /* Linux */
    int32_t signal; /* pending/current signal from prstatus */
    uint32_t pid, ppid, pgrp, sid;
    char name[32];
} ds_thread;

typedef struct ds_stream {
    uint32_t type;
    uint64_t offset; /* file offset of the stream / note */
    uint64_t size;
    const char *name; /* static name, or "unknown" */
    bool parsed;      /* understood and used */
    bool damaged;     /* failed validation (see diags) */
} ds_stream;

typedef struct ds_exception {
    bool present;
    uint32_t tid;
    uint32_t code; /* Windows exception code, or Linux signal number */
    uint32_t flags;
    uint64_t record, address;
    uint32_t nparams;
    uint64_t params[15];
    const char *name; /* "EXCEPTION_ACCESS_VIOLATION", "SIGSEGV", ... */
    /* Linux siginfo */
    int32_t si_code, si_errno;
    uint64_t fault_addr;
    /* Minidump: the context stored with the exception record (the faulting state, which
     * debuggers show for the exception thread). Zero-copy into the mapped file. */
    bool has_context;
    const uint8_t *context;
    uint32_t context_size;
    uint64_t pc, sp, fp;
} ds_exception;

typedef struct ds_misc {
    bool has_pid;
    uint32_t pid;
    bool has_times;
    uint32_t process_create_time;                    /* time_t */
    uint32_t process_user_time, process_kernel_time; /* seconds */
    bool has_cpu;
    uint32_t cpu_max_mhz, cpu_current_mhz, cpu_mhz_limit, cpu_max_idle_state,
        cpu_current_idle_state;
    bool has_integrity;
    uint32_t process_integrity_level;
    bool has_exec_flags;
    uint32_t process_execute_flags;
    bool has_cookie;
    uint32_t process_cookie;
    bool has_timezone;
    int32_t tz_bias;
    char tz_standard[64], tz_daylight[64];
    char build_string[260], dbg_bld_str[40];
    uint32_t misc_version; /* 1..5 from the stream size */
} ds_misc;

/* A memory region of the process (Windows MEMORY_BASIC_INFORMATION or an ELF PT_LOAD). */
typedef struct ds_region {
    uint64_t base, size;
    uint64_t alloc_base;
    uint32_t alloc_protect;
    uint32_t state;    /* MEM_COMMIT 0x1000, MEM_RESERVE 0x2000, MEM_FREE 0x10000 */
    uint32_t protect;  /* PAGE_* */
    uint32_t type;     /* MEM_PRIVATE 0x20000, MEM_MAPPED 0x40000, MEM_IMAGE 0x1000000 */
    uint32_t perm;     /* ELF: PF_R 4 | PF_W 2 | PF_X 1 */
    int32_t file;      /* ELF: index into linux.files of a mapping covering base, or -1 */
    uint64_t captured; /* bytes of the region present in the dump */
} ds_region;

#define DS_MEM_COMMIT 0x1000u
#define DS_MEM_RESERVE 0x2000u
#define DS_MEM_FREE 0x10000u
#define DS_MEM_PRIVATE 0x20000u
#define DS_MEM_MAPPED 0x40000u
#define DS_MEM_IMAGE 0x1000000u

typedef struct ds_handle {
    uint64_t handle;
    char *type_name;   /* owned, may be NULL */
    char *object_name; /* owned, may be NULL */
    uint32_t attributes, granted_access, handle_count, pointer_count;
} ds_handle;

typedef struct ds_file_map {          /* ELF NT_FILE entry */
    uint64_t start, end, file_offset; /* file_offset in bytes (normalised) */
    char *path;                       /* owned */
} ds_file_map;

typedef struct ds_auxv {
    uint64_t type, value;
} ds_auxv;

typedef struct ds_linux_info {
    bool has_prpsinfo;
    uint32_t pid, ppid, uid, gid;
    char state;
    char fname[17];
    char psargs[81];
    ds_auxv *auxv;
    size_t nauxv;
    ds_file_map *files;
    size_t nfiles;
    uint64_t nt_file_page_size; /* as written */
    int nt_file_convention; /* 0 none, 1 kernel (pages), 2 gdb (bytes, page_size 1), 3 createdump
                               (bytes, page 4096) */
} ds_linux_info;

typedef struct ds_vm_counters { /* ProcessVmCountersStream */
    bool present;
    uint16_t revision;
    uint32_t page_fault_count;
    uint64_t peak_working_set, working_set, quota_peak_paged_pool, quota_paged_pool,
        quota_peak_nonpaged_pool, quota_nonpaged_pool, pagefile_usage, peak_pagefile_usage,
        private_usage, private_working_set, shared_commit_usage, job_private_usage,
        job_private_commit_limit, job_total_commit_limit, peak_virtual_size, virtual_size;
} ds_vm_counters;

typedef struct ds_dump {
    char *path;
    int fd;
    const uint8_t *map; /* the whole file, mmap'ed read-only */
    uint64_t map_size;
    ds_format format;
    const char *format_name; /* "Windows minidump", "ELF core (gcore)", ... */
    ds_dump_kind kind;
    char kind_reason[160]; /* why this kind was inferred */
    uint64_t dump_flags;   /* MINIDUMP_TYPE flags */
    uint32_t dump_time;    /* time_t when written (minidump header); 0 unknown */
    char producer[64];     /* "createdump", "gcore", "kernel", "breakpad", "crashpad", ... */
    ds_system sys;
    ds_misc misc;
    ds_thread *threads;
    size_t nthreads;
    ds_module *modules;
    size_t nmodules;
    ds_module *unloaded;
    size_t nunloaded;
    ds_region *regions; /* sorted by base */
    size_t nregions;
    bool has_region_table; /* MemoryInfoList / PT_LOAD map present */
    ds_stream *streams;    /* minidump streams, or ELF notes */
    size_t nstreams;
    ds_exception exc;
    ds_handle *handles;
    size_t nhandles;
    bool has_handles;
    char *comment_a, *comment_w; /* UTF-8, owned */
    ds_vm_counters vmc;
    bool has_system_memory_info;
    ds_linux_info lnx;
    uint64_t peb, peb32; /* when known (misc or TEB) */
    ds_vmem vm;
    ds_diags diags; /* every problem found while reading */
    void *backend;  /* format-specific private state (e.g. libkdumpfile context) */
    void (*backend_free)(void *);
} ds_dump;

/* Opens any supported dump. On DS_OK or DS_E_PARTIAL *out is a usable dump (partial: damaged parts
 * skipped, see (*out)->diags). On other errors *out is NULL and `diags` (if given) explains. */
ds_status ds_dump_open(const char *path, ds_dump **out, ds_diags *diags);
void ds_dump_close(ds_dump *d);

/* Format probes and readers (src/dump/). Each fills *d (map/map_size/path already set). */
bool ds_minidump_probe(const uint8_t *p, uint64_t n);
ds_status ds_minidump_read(ds_dump *d);
bool ds_elfcore_probe(const uint8_t *p, uint64_t n);
ds_status ds_elfcore_read(ds_dump *d);
bool ds_kdump_probe(const uint8_t *p, uint64_t n);
ds_status ds_kdump_read(ds_dump *d);

/* Helpers shared by readers and consumers. */
const char *ds_arch_name(ds_arch a);
const char *ds_os_name(ds_os o);
const char *ds_kind_name(ds_dump_kind k);
const ds_module *ds_module_at(const ds_dump *d, uint64_t addr);
const ds_region *ds_region_at(const ds_dump *d, uint64_t addr);
/* Called by ds_dump_open after the reader: reads PE images in memory to fill versions/CodeView
 * that the module records lack, and marks managed modules. */
void ds_dump_enrich_modules(ds_dump *d);

#ifdef __cplusplus
}
#endif
#endif
