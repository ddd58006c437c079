/* Windows minidump reader (MDMP), including Breakpad and Crashpad minidumps.
 *
 * Layouts follow minidumpapiset.h (MINIDUMP_* structures, #pragma pack(4)) and Breakpad's
 * minidump_format.h for the 0x4767xxxx streams. The file is hostile input: every count is limited
 * by the size of its stream, every RVA is checked against the file, every string is bounded, and a
 * damaged stream is reported (ds_diag_add with structure and file offset) and skipped or clipped
 * while the rest of the dump is still read. All reads of file bytes go through ds_cursor. */
#include "dumpsleuth/dump.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cursor.h"
#include "base/util.h"

/* ---- constants ---------------------------------------------------------------------------- */

#define MD_SIGNATURE 0x504d444du /* 'MDMP' */
#define MD_VERSION 0xa793u
#define MD_HEADER_SIZE 32u
#define MD_DIRENT_SIZE 12u

enum {
    ST_UNUSED = 0,
    ST_THREAD_LIST = 3,
    ST_MODULE_LIST = 4,
    ST_MEMORY_LIST = 5,
    ST_EXCEPTION = 6,
    ST_SYSTEM_INFO = 7,
    ST_THREAD_EX_LIST = 8,
    ST_MEMORY64_LIST = 9,
    ST_COMMENT_A = 10,
    ST_COMMENT_W = 11,
    ST_HANDLE_DATA = 12,
    ST_FUNCTION_TABLE = 13,
    ST_UNLOADED_MODULE_LIST = 14,
    ST_MISC_INFO = 15,
    ST_MEMORY_INFO_LIST = 16,
    ST_THREAD_INFO_LIST = 17,
    ST_HANDLE_OPERATION_LIST = 18,
    ST_TOKEN = 19,
    ST_JAVASCRIPT_DATA = 20,
    ST_SYSTEM_MEMORY_INFO = 21,
    ST_PROCESS_VM_COUNTERS = 22,
    ST_IPT_TRACE = 23,
    ST_THREAD_NAMES = 24,
    ST_BP_INFO = 0x47670001,
    ST_BP_ASSERTION = 0x47670002,
    ST_BP_LINUX_CPU_INFO = 0x47670003,
    ST_BP_LINUX_PROC_STATUS = 0x47670004,
    ST_BP_LINUX_LSB_RELEASE = 0x47670005,
    ST_BP_LINUX_CMD_LINE = 0x47670006,
    ST_BP_LINUX_ENVIRON = 0x47670007,
    ST_BP_LINUX_AUXV = 0x47670008,
    ST_BP_LINUX_MAPS = 0x47670009,
    ST_BP_LINUX_DSO_DEBUG = 0x4767000a,
    ST_CRASHPAD_INFO = 0x43500001
};

/* MINIDUMP_TYPE flags used for the dump kind. */
#define MDT_WITH_FULL_MEMORY 0x2ull
#define MDT_WITH_PRIVATE_RW_MEMORY 0x200ull
#define MDT_FILTER_TRIAGE 0x100000ull

/* PROCESSOR_ARCHITECTURE_* (and Breakpad's extensions). */
#define PA_INTEL 0
#define PA_MIPS 1
#define PA_PPC 3
#define PA_ARM 5
#define PA_IA64 6
#define PA_AMD64 9
#define PA_ARM64 12
#define PA_BP_SPARC 0x8001
#define PA_BP_PPC64 0x8002
#define PA_BP_ARM64_OLD 0x8003
#define PA_BP_MIPS64 0x8004
#define PA_BP_RISCV 0x8005
#define PA_BP_RISCV64 0x8006
#define PA_UNKNOWN 0xffff

/* Limits for hostile input. */
#define MD_MAX_STRING_BYTES 65536u      /* one MINIDUMP_STRING (bytes of UTF-16) */
#define MD_MAX_DIAGS_PER_STREAM 16      /* per-entry warnings of one stream; then a summary */
#define MD_STRING_BUDGET (64ull << 20)  /* total bytes of strings allocated (plus file size) */
#define MD_MAX_TEXT_STREAM (1ull << 20) /* Breakpad text streams parsed */

/* ---- reader state ------------------------------------------------------------------------- */

typedef struct md {
    ds_dump *d;
    const uint8_t *p;
    uint64_t n;
    ds_cursor file;   /* the whole file */
    uint64_t budget;  /* bytes of strings that may still be allocated */
    bool budget_told; /* the budget exhaustion was reported */
    bool has_mem64, has_meminfo, has_memlist, has_maps_regions;
    uint64_t mem64_missing; /* Memory64List bytes beyond the end of the file */
} md;

static void warn(md *m, const char *structure, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void warn(md *m, const char *structure, uint64_t off, const char *fmt, ...)
{
    char msg[208];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ds_diag_add(&m->d->diags, DS_SEV_WARNING, structure, 1, off, "%s", msg);
}

static void note(md *m, const char *structure, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note(md *m, const char *structure, uint64_t off, const char *fmt, ...)
{
    char msg[208];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ds_diag_add(&m->d->diags, DS_SEV_NOTE, structure, 1, off, "%s", msg);
}

/* Structure name with an index: "MINIDUMP_MODULE[3]". */
static const char *sname(char *buf, size_t n, const char *s, uint64_t i)
{
    /* a long name with a big index is cut at the buffer's end: the result is still a usable
     * label (the return value is looked at so that GCC does not warn about the truncation) */
    if (snprintf(buf, n, "%s[%llu]", s, (unsigned long long)i) >= (int)n && n > 1)
        buf[n - 2] = ']';
    return buf;
}

static bool in_file(const md *m, uint64_t off, uint64_t len)
{
    return ds_in_bounds(off, len, m->n);
}

/* Takes `bytes` from the string budget; false (reported once) when exhausted. */
static bool take_budget(md *m, uint64_t bytes, uint64_t off)
{
    if (bytes <= m->budget) {
        m->budget -= bytes;
        return true;
    }
    if (!m->budget_told) {
        m->budget_told = true;
        warn(m, "MINIDUMP_STRING", off,
             "string memory budget exhausted: further strings are not read");
    }
    return false;
}

/* Reads a MINIDUMP_STRING at rva into a newly allocated UTF-8 string. NULL (with a warning
 * naming `what`) when the string is out of the file, odd-sized or too long. */
static char *read_mdstring(md *m, uint32_t rva, uint32_t max_bytes, const char *what)
{
    ds_cursor c = ds_cur_sub(&m->file, rva, 4);
    uint32_t len = ds_cur_u32(&c);
    if (c.bad) {
        warn(m, what, rva, "MINIDUMP_STRING at RVA 0x%x is outside the file (size 0x%llx)", rva,
             (unsigned long long)m->n);
        return NULL;
    }
    if (len & 1) {
        warn(m, what, rva, "MINIDUMP_STRING length %u is odd", len);
        return NULL;
    }
    if (!in_file(m, (uint64_t)rva + 4, len)) {
        warn(m, what, rva, "MINIDUMP_STRING of %u bytes runs past the end of the file", len);
        return NULL;
    }
    if (len > max_bytes) {
        warn(m, what, rva, "MINIDUMP_STRING of %u bytes is longer than %u: truncated", len,
             max_bytes);
        len = max_bytes;
    }
    if (!take_budget(m, (uint64_t)len * 3 / 2 + 1, rva))
        return NULL;
    ds_cursor s = ds_cur_sub(&m->file, (uint64_t)rva + 4, len);
    const uint8_t *b = ds_cur_bytes(&s, len);
    if (!b && len)
        return NULL;
    static const uint8_t empty[2] = {0, 0};
    return ds_utf16le_dup(len ? b : empty, len / 2);
}

/* Same, into a fixed buffer. */
static bool read_mdstring_buf(md *m, uint32_t rva, char *out, size_t outsz, const char *what)
{
    out[0] = 0;
    ds_cursor c = ds_cur_sub(&m->file, rva, 4);
    uint32_t len = ds_cur_u32(&c);
    if (c.bad) {
        warn(m, what, rva, "MINIDUMP_STRING at RVA 0x%x is outside the file", rva);
        return false;
    }
    if ((len & 1) || !in_file(m, (uint64_t)rva + 4, len)) {
        warn(m, what, rva, "MINIDUMP_STRING length %u is odd or runs past the end of the file",
             len);
        return false;
    }
    if (len > MD_MAX_STRING_BYTES)
        len = MD_MAX_STRING_BYTES;
    ds_cursor s = ds_cur_sub(&m->file, (uint64_t)rva + 4, len);
    const uint8_t *b = ds_cur_bytes(&s, len);
    if (b)
        ds_utf16le_to_utf8(b, len / 2, out, outsz);
    return true;
}

/* ---- stream names ------------------------------------------------------------------------- */

typedef struct stream_name {
    uint32_t type;
    const char *name;
} stream_name;

static const stream_name STREAM_NAMES[] = {
    {0, "UnusedStream"},
    {1, "ReservedStream0"},
    {2, "ReservedStream1"},
    {3, "ThreadListStream"},
    {4, "ModuleListStream"},
    {5, "MemoryListStream"},
    {6, "ExceptionStream"},
    {7, "SystemInfoStream"},
    {8, "ThreadExListStream"},
    {9, "Memory64ListStream"},
    {10, "CommentStreamA"},
    {11, "CommentStreamW"},
    {12, "HandleDataStream"},
    {13, "FunctionTableStream"},
    {14, "UnloadedModuleListStream"},
    {15, "MiscInfoStream"},
    {16, "MemoryInfoListStream"},
    {17, "ThreadInfoListStream"},
    {18, "HandleOperationListStream"},
    {19, "TokenStream"},
    {20, "JavaScriptDataStream"},
    {21, "SystemMemoryInfoStream"},
    {22, "ProcessVmCountersStream"},
    {23, "IptTraceStream"},
    {24, "ThreadNamesStream"},
    {0x8000, "ceStreamNull"},
    {0x8001, "ceStreamSystemInfo"},
    {0x8002, "ceStreamException"},
    {0x8003, "ceStreamModuleList"},
    {0x8004, "ceStreamProcessList"},
    {0x8005, "ceStreamThreadList"},
    {0x8006, "ceStreamThreadContextList"},
    {0x8007, "ceStreamThreadCallStackList"},
    {0x8008, "ceStreamMemoryVirtualList"},
    {0x8009, "ceStreamMemoryPhysicalList"},
    {0x800a, "ceStreamBucketParameters"},
    {0x800b, "ceStreamProcessModuleMap"},
    {0x800c, "ceStreamDiagnosisList"},
    {0xffff, "LastReservedStream"},
    {0x47670001, "BreakpadInfoStream"},
    {0x47670002, "BreakpadAssertionInfoStream"},
    {0x47670003, "BreakpadLinuxCpuInfo"},
    {0x47670004, "BreakpadLinuxProcStatus"},
    {0x47670005, "BreakpadLinuxLsbRelease"},
    {0x47670006, "BreakpadLinuxCmdLine"},
    {0x47670007, "BreakpadLinuxEnviron"},
    {0x47670008, "BreakpadLinuxAuxv"},
    {0x47670009, "BreakpadLinuxMaps"},
    {0x4767000a, "BreakpadLinuxDsoDebug"},
    {0x43500001, "CrashpadInfoStream"},
    {0x4d7a0001, "MozMacosCrashInfoStream"},
    {0x4d7a0002, "MozMacosBootargsStream"},
    {0x4d7a0003, "MozLinuxLimits"},
    {0x4d7a0004, "MozSoftErrors"},
};

static const char *stream_name_of(uint32_t type)
{
    for (size_t i = 0; i < sizeof STREAM_NAMES / sizeof STREAM_NAMES[0]; i++)
        if (STREAM_NAMES[i].type == type)
            return STREAM_NAMES[i].name;
    return "unknown";
}

/* ---- exception names ---------------------------------------------------------------------- */

static const struct {
    uint32_t code;
    const char *name;
} EXC_NAMES[] = {
    {0x80000001u, "STATUS_GUARD_PAGE_VIOLATION"},
    {0x80000002u, "EXCEPTION_DATATYPE_MISALIGNMENT"},
    {0x80000003u, "EXCEPTION_BREAKPOINT"},
    {0x80000004u, "EXCEPTION_SINGLE_STEP"},
    {0xc0000005u, "EXCEPTION_ACCESS_VIOLATION"},
    {0xc000000du, "STATUS_INVALID_PARAMETER"},
    {0xc0000006u, "EXCEPTION_IN_PAGE_ERROR"},
    {0xc0000008u, "EXCEPTION_INVALID_HANDLE"},
    {0xc000001du, "EXCEPTION_ILLEGAL_INSTRUCTION"},
    {0xc0000017u, "STATUS_NO_MEMORY"},
    {0xc0000025u, "EXCEPTION_NONCONTINUABLE_EXCEPTION"},
    {0xc0000026u, "EXCEPTION_INVALID_DISPOSITION"},
    {0xc000008cu, "EXCEPTION_ARRAY_BOUNDS_EXCEEDED"},
    {0xc000008du, "EXCEPTION_FLT_DENORMAL_OPERAND"},
    {0xc000008eu, "EXCEPTION_FLT_DIVIDE_BY_ZERO"},
    {0xc000008fu, "EXCEPTION_FLT_INEXACT_RESULT"},
    {0xc0000090u, "EXCEPTION_FLT_INVALID_OPERATION"},
    {0xc0000091u, "EXCEPTION_FLT_OVERFLOW"},
    {0xc0000092u, "EXCEPTION_FLT_STACK_CHECK"},
    {0xc0000093u, "EXCEPTION_FLT_UNDERFLOW"},
    {0xc0000094u, "EXCEPTION_INT_DIVIDE_BY_ZERO"},
    {0xc0000095u, "EXCEPTION_INT_OVERFLOW"},
    {0xc0000096u, "EXCEPTION_PRIV_INSTRUCTION"},
    {0xc00000fdu, "EXCEPTION_STACK_OVERFLOW"},
    {0xc0000135u, "STATUS_DLL_NOT_FOUND"},
    {0xc0000139u, "STATUS_ENTRYPOINT_NOT_FOUND"},
    {0xc0000142u, "STATUS_DLL_INIT_FAILED"},
    {0xc000013au, "STATUS_CONTROL_C_EXIT"},
    {0xc0000194u, "EXCEPTION_POSSIBLE_DEADLOCK"},
    {0xc0000374u, "STATUS_HEAP_CORRUPTION"},
    {0xc0000409u, "STATUS_STACK_BUFFER_OVERRUN"},
    {0xc0000417u, "STATUS_INVALID_CRUNTIME_PARAMETER"},
    {0xc0000420u, "STATUS_ASSERTION_FAILURE"},
    {0xc0000602u, "STATUS_FAIL_FAST_EXCEPTION"},
    {0xe06d7363u, "C++ exception (0xE06D7363)"},
    {0xe0434352u, "CLR exception (0xE0434352)"},
    {0xe0434f4du, "CLR exception (0xE0434F4D)"},
    {0x40010005u, "DBG_CONTROL_C"},
    {0x4000001fu, "STATUS_WX86_BREAKPOINT"},
    {0x406d1388u, "MS_VC_EXCEPTION (SetThreadName)"},
};

static const char *linux_signal_name(uint32_t s)
{
    static const char *n[] = {
        NULL,        "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
    return s < sizeof n / sizeof n[0] ? n[s] : NULL;
}

/* macOS Breakpad/Crashpad dumps store the Mach exception type (EXC_*) as the code. */
static const char *mach_exception_name(uint32_t c)
{
    static const char *n[] = {NULL,
                              "EXC_BAD_ACCESS",
                              "EXC_BAD_INSTRUCTION",
                              "EXC_ARITHMETIC",
                              "EXC_EMULATION",
                              "EXC_SOFTWARE",
                              "EXC_BREAKPOINT",
                              "EXC_SYSCALL",
                              "EXC_MACH_SYSCALL",
                              "EXC_RPC_ALERT",
                              "EXC_CRASH",
                              "EXC_RESOURCE",
                              "EXC_GUARD",
                              "EXC_CORPSE_NOTIFY"};
    return c < sizeof n / sizeof n[0] ? n[c] : NULL;
}

static const char *exception_name(ds_os os, uint32_t code)
{
    if (os == DS_OS_LINUX || os == DS_OS_ANDROID) {
        const char *s = linux_signal_name(code);
        if (s)
            return s;
    }
    if (os == DS_OS_MACOS) {
        const char *s = mach_exception_name(code);
        if (s)
            return s;
    }
    for (size_t i = 0; i < sizeof EXC_NAMES / sizeof EXC_NAMES[0]; i++)
        if (EXC_NAMES[i].code == code)
            return EXC_NAMES[i].name;
    return "unknown";
}

/* ---- SystemInfo ----------------------------------------------------------------------------- */

static ds_arch arch_of(uint16_t pa)
{
    switch (pa) {
    case PA_INTEL:
        return DS_ARCH_X86;
    case PA_AMD64:
        return DS_ARCH_AMD64;
    case PA_ARM:
        return DS_ARCH_ARM;
    case PA_ARM64:
    case PA_BP_ARM64_OLD:
        return DS_ARCH_ARM64;
    case PA_PPC:
        return DS_ARCH_PPC;
    case PA_BP_PPC64:
        return DS_ARCH_PPC64;
    case PA_MIPS:
    case PA_BP_MIPS64:
        return DS_ARCH_MIPS;
    case PA_BP_RISCV64:
        return DS_ARCH_RISCV64;
    case PA_UNKNOWN:
        return DS_ARCH_UNKNOWN;
    default:
        return DS_ARCH_OTHER;
    }
}

static unsigned ptr_size_of(uint16_t pa)
{
    switch (pa) {
    case PA_AMD64:
    case PA_ARM64:
    case PA_BP_ARM64_OLD:
    case PA_IA64:
    case PA_BP_PPC64:
    case PA_BP_MIPS64:
    case PA_BP_RISCV64:
        return 8;
    case PA_INTEL:
    case PA_ARM:
    case PA_PPC:
    case PA_MIPS:
    case PA_BP_SPARC:
    case PA_BP_RISCV:
        return 4;
    default:
        return 0;
    }
}

static ds_os os_of(uint32_t platform)
{
    switch (platform) {
    case 0: /* VER_PLATFORM_WIN32s */
    case 1: /* VER_PLATFORM_WIN32_WINDOWS */
    case 2: /* VER_PLATFORM_WIN32_NT */
    case 3: /* VER_PLATFORM_WIN32_CE */
        return DS_OS_WINDOWS;
    case 0x8101: /* Breakpad MD_OS_MAC_OS_X */
        return DS_OS_MACOS;
    case 0x8201: /* MD_OS_LINUX */
        return DS_OS_LINUX;
    case 0x8203: /* MD_OS_ANDROID */
        return DS_OS_ANDROID;
    default: /* 0x8000 Unix, 0x8102 iOS, 0x8202 Solaris, 0x8204 PS3, 0x8205 NaCl, 0x8206 Fuchsia */
        return DS_OS_OTHER;
    }
}

static const char *windows_name(const ds_system *s)
{
    bool ws = s->product_type == 1 || s->product_type == 0;
    uint32_t v = s->os_major * 100 + s->os_minor;
    switch (v) {
    case 400:
        return s->platform_id == 1 ? "95" : "NT 4.0";
    case 410:
        return "98";
    case 490:
        return "Me";
    case 500:
        return "2000";
    case 501:
        return "XP";
    case 502:
        return ws ? "XP x64" : "Server 2003";
    case 600:
        return ws ? "Vista" : "Server 2008";
    case 601:
        return ws ? "7" : "Server 2008 R2";
    case 602:
        return ws ? "8" : "Server 2012";
    case 603:
        return ws ? "8.1" : "Server 2012 R2";
    case 1000:
        if (ws)
            return s->os_build >= 22000 ? "11" : "10";
        if (s->os_build >= 20348)
            return "Server 2022";
        if (s->os_build >= 17763)
            return "Server 2019";
        return "Server 2016";
    default:
        return NULL;
    }
}

static void build_os_text(ds_dump *d)
{
    ds_system *s = &d->sys;
    char *t = s->os_text;
    size_t n = sizeof s->os_text;
    switch (s->os) {
    case DS_OS_WINDOWS: {
        const char *w = windows_name(s);
        if (w)
            snprintf(t, n, "Windows %s (%u.%u.%u)%s%s", w, s->os_major, s->os_minor, s->os_build,
                     s->csd[0] ? " " : "", s->csd);
        else
            snprintf(t, n, "Windows %u.%u.%u%s%s", s->os_major, s->os_minor, s->os_build,
                     s->csd[0] ? " " : "", s->csd);
        break;
    }
    case DS_OS_LINUX:
        if (!strncmp(s->csd, "Linux ", 6))
            snprintf(t, n, "%s", s->csd);
        else
            snprintf(t, n, "Linux%s%s", s->csd[0] ? " " : "", s->csd);
        break;
    case DS_OS_ANDROID:
        snprintf(t, n, "Android%s%s", s->csd[0] ? " " : "", s->csd);
        break;
    case DS_OS_MACOS:
        snprintf(t, n, "macOS %u.%u.%u%s%s", s->os_major, s->os_minor, s->os_build,
                 s->csd[0] ? " " : "", s->csd);
        break;
    default:
        snprintf(t, n, "platform 0x%x %u.%u.%u%s%s", s->platform_id, s->os_major, s->os_minor,
                 s->os_build, s->csd[0] ? " " : "", s->csd);
        break;
    }
}

static bool parse_system_info(md *m, ds_cursor c)
{
    ds_dump *d = m->d;
    ds_system *s = &d->sys;
    if (c.len < 32) {
        warn(m, "MINIDUMP_SYSTEM_INFO", c.base_off, "stream of %llu bytes is shorter than 32",
             (unsigned long long)c.len);
        return false;
    }
    uint16_t pa = ds_cur_u16(&c);
    s->cpu_level = ds_cur_u16(&c);
    s->cpu_revision = ds_cur_u16(&c);
    s->cpu_count = ds_cur_u8(&c);
    s->product_type = ds_cur_u8(&c);
    s->os_major = ds_cur_u32(&c);
    s->os_minor = ds_cur_u32(&c);
    s->os_build = ds_cur_u32(&c);
    s->platform_id = ds_cur_u32(&c);
    uint32_t csd_rva = ds_cur_u32(&c);
    s->suite_mask = ds_cur_u16(&c);
    ds_cur_u16(&c); /* Reserved2 */
    s->arch = arch_of(pa);
    s->ptr_size = ptr_size_of(pa);
    s->os = os_of(s->platform_id);
    bool ok = true;
    if (!s->ptr_size) {
        note(m, "MINIDUMP_SYSTEM_INFO", c.base_off,
             "processor architecture 0x%x is not known: pointer size assumed 8", pa);
        s->ptr_size = 8;
    }
    s->target_ptr_size = s->ptr_size;
    if ((pa == PA_INTEL || pa == PA_AMD64) && ds_cur_has(&c, 12)) {
        const uint8_t *v = ds_cur_bytes(&c, 12);
        bool printable = true;
        for (int i = 0; i < 12; i++)
            if (v[i] < 0x20 || v[i] > 0x7e)
                printable = false;
        if (printable) {
            memcpy(s->cpu_vendor, v, 12);
            s->cpu_vendor[12] = 0;
        }
    }
    if (csd_rva &&
        !read_mdstring_buf(m, csd_rva, s->csd, sizeof s->csd, "MINIDUMP_SYSTEM_INFO.CSDVersion"))
        ok = false;
    /* The CSD string may carry control characters (Breakpad puts uname output there). */
    for (char *q = s->csd; *q; q++)
        if ((unsigned char)*q < 0x20)
            *q = ' ';
    build_os_text(d);
    return ok;
}

/* ---- memory ------------------------------------------------------------------------------- */

/* Count check shared by the list streams: how many entries of `esz` bytes fit after `hdr`
 * bytes; reports a mismatch with the declared count. */
static uint64_t fit_count(md *m, const char *structure, ds_cursor *c, uint64_t hdr, uint64_t esz,
                          uint64_t declared, bool *ok)
{
    uint64_t room = c->len > hdr ? (c->len - hdr) / esz : 0;
    if (declared > room) {
        warn(m, structure, c->base_off,
             "declares %llu entries of %llu bytes but only %llu fit in the stream (%llu bytes)",
             (unsigned long long)declared, (unsigned long long)esz, (unsigned long long)room,
             (unsigned long long)c->len);
        *ok = false;
        return room;
    }
    return declared;
}

/* The 32-bit-count list streams (threads, modules, memory) sometimes carry 4 bytes of padding
 * after the count (seen in LLDB's and some 64-bit producers' output). */
static uint64_t list_header(const ds_cursor *c, uint32_t count, uint64_t esz)
{
    if (c->len >= 8 && (c->len - 8) == (uint64_t)count * esz && (c->len - 4) % esz != 0)
        return 8;
    return 4;
}

static bool parse_memory_list(md *m, ds_cursor c)
{
    bool ok = true;
    char sb[48];
    uint32_t declared = ds_cur_u32(&c);
    if (c.bad) {
        warn(m, "MINIDUMP_MEMORY_LIST", c.base_off, "stream too short for the range count");
        return false;
    }
    uint64_t hdr = list_header(&c, declared, 16);
    uint64_t n = fit_count(m, "MINIDUMP_MEMORY_LIST", &c, hdr, 16, declared, &ok);
    int told = 0;
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, hdr + i * 16, 16);
        uint64_t va = ds_cur_u64(&e);
        uint32_t size = ds_cur_u32(&e);
        uint32_t rva = ds_cur_u32(&e);
        if (!size)
            continue;
        if (!in_file(m, rva, size)) {
            ok = false;
            if (told++ < MD_MAX_DIAGS_PER_STREAM)
                warn(m, sname(sb, sizeof sb, "MINIDUMP_MEMORY_DESCRIPTOR", i), e.base_off,
                     "bytes of range 0x%llx+0x%x at RVA 0x%x run past the end of the file",
                     (unsigned long long)va, size, rva);
        }
        if (va + size < va) {
            ok = false;
            if (told++ < MD_MAX_DIAGS_PER_STREAM)
                warn(m, sname(sb, sizeof sb, "MINIDUMP_MEMORY_DESCRIPTOR", i), e.base_off,
                     "range 0x%llx+0x%x wraps around the address space: clipped",
                     (unsigned long long)va, size);
        }
        ds_vmem_add(&m->d->vm, va, size, DS_RANGE_DATA, rva, (uint32_t)i);
    }
    if (told > MD_MAX_DIAGS_PER_STREAM)
        warn(m, "MINIDUMP_MEMORY_LIST", c.base_off, "%d damaged descriptors in all", told);
    m->has_memlist = true;
    return ok;
}

static bool parse_memory64_list(md *m, ds_cursor c)
{
    bool ok = true;
    char sb[48];
    uint64_t declared = ds_cur_u64(&c);
    uint64_t off = ds_cur_u64(&c);
    if (c.bad) {
        warn(m, "MINIDUMP_MEMORY64_LIST", c.base_off, "stream too short for its 16-byte header");
        return false;
    }
    uint64_t n = fit_count(m, "MINIDUMP_MEMORY64_LIST", &c, 16, 16, declared, &ok);
    uint64_t missing = 0, missing_ranges = 0;
    if (off > m->n) {
        warn(m, "MINIDUMP_MEMORY64_LIST", c.base_off,
             "BaseRva 0x%llx is beyond the end of the file (0x%llx)", (unsigned long long)off,
             (unsigned long long)m->n);
        ok = false;
    }
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, 16 + i * 16, 16);
        uint64_t va = ds_cur_u64(&e);
        uint64_t size = ds_cur_u64(&e);
        if (ds_add_overflows(off, size)) {
            warn(m, sname(sb, sizeof sb, "MINIDUMP_MEMORY_DESCRIPTOR64", i), e.base_off,
                 "DataSize 0x%llx overflows the file offset: remaining %llu ranges skipped",
                 (unsigned long long)size, (unsigned long long)(n - i));
            ok = false;
            break;
        }
        if (va + size < va) {
            warn(m, sname(sb, sizeof sb, "MINIDUMP_MEMORY_DESCRIPTOR64", i), e.base_off,
                 "range 0x%llx+0x%llx wraps around the address space: clipped",
                 (unsigned long long)va, (unsigned long long)size);
            ok = false;
        }
        if (!in_file(m, off, size)) {
            uint64_t have = off < m->n ? m->n - off : 0;
            missing += size - have;
            missing_ranges++;
        }
        ds_vmem_add(&m->d->vm, va, size, DS_RANGE_DATA, off, (uint32_t)i);
        off += size;
    }
    if (missing) {
        warn(m, "MINIDUMP_MEMORY64_LIST", c.base_off,
             "file truncated: %llu bytes of %llu memory ranges are missing (end of data at "
             "0x%llx, file size 0x%llx)",
             (unsigned long long)missing, (unsigned long long)missing_ranges,
             (unsigned long long)off, (unsigned long long)m->n);
        ok = false;
    }
    m->mem64_missing = missing;
    m->has_mem64 = true;
    return ok;
}

static int cmp_region(const void *a, const void *b)
{
    const ds_region *x = a, *y = b;
    if (x->base != y->base)
        return x->base < y->base ? -1 : 1;
    return x->size < y->size ? -1 : (x->size > y->size ? 1 : 0);
}

/* Sorts the region table and removes overlaps (the lower region keeps its bytes). */
static void sort_regions(md *m, const char *structure, uint64_t off)
{
    ds_dump *d = m->d;
    if (!d->nregions)
        return;
    qsort(d->regions, d->nregions, sizeof *d->regions, cmp_region);
    size_t o = 0;
    uint64_t overlaps = 0;
    for (size_t i = 0; i < d->nregions; i++) {
        ds_region r = d->regions[i];
        if (o) {
            ds_region *p = &d->regions[o - 1];
            uint64_t pend = p->base + p->size;
            if (r.base < pend) {
                overlaps++;
                uint64_t rend = r.base + r.size;
                if (rend <= pend)
                    continue;
                r.size = rend - pend;
                r.base = pend;
            }
        }
        d->regions[o++] = r;
    }
    d->nregions = o;
    if (overlaps)
        warn(m, structure, off, "%llu regions overlap others: trimmed",
             (unsigned long long)overlaps);
}

static bool parse_memory_info_list(md *m, ds_cursor c)
{
    bool ok = true;
    ds_dump *d = m->d;
    uint32_t hsz = ds_cur_u32(&c);
    uint32_t esz = ds_cur_u32(&c);
    uint64_t declared = ds_cur_u64(&c);
    if (c.bad || hsz < 16 || esz < 48 || hsz > c.len) {
        warn(m, "MINIDUMP_MEMORY_INFO_LIST", c.base_off,
             "unusable header (SizeOfHeader %u, SizeOfEntry %u, stream %llu bytes)", hsz, esz,
             (unsigned long long)c.len);
        return false;
    }
    uint64_t n = fit_count(m, "MINIDUMP_MEMORY_INFO_LIST", &c, hsz, esz, declared, &ok);
    if (n && !ds_grow((void **)&d->regions, &(size_t){0}, (size_t)n, sizeof *d->regions)) {
        warn(m, "MINIDUMP_MEMORY_INFO_LIST", c.base_off, "out of memory for %llu regions",
             (unsigned long long)n);
        return false;
    }
    int told = 0;
    char sb[48];
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, hsz + i * esz, 48);
        ds_region r;
        memset(&r, 0, sizeof r);
        r.base = ds_cur_u64(&e);
        r.alloc_base = ds_cur_u64(&e);
        r.alloc_protect = ds_cur_u32(&e);
        ds_cur_u32(&e);
        r.size = ds_cur_u64(&e);
        r.state = ds_cur_u32(&e);
        r.protect = ds_cur_u32(&e);
        r.type = ds_cur_u32(&e);
        r.file = -1;
        if (!r.size)
            continue;
        if (r.base + r.size < r.base || r.base + r.size == 0) {
            if (told++ < MD_MAX_DIAGS_PER_STREAM)
                warn(m, sname(sb, sizeof sb, "MINIDUMP_MEMORY_INFO", i), e.base_off,
                     "region 0x%llx+0x%llx wraps around the address space: clipped",
                     (unsigned long long)r.base, (unsigned long long)r.size);
            ok = false;
            r.size = UINT64_MAX - r.base;
            if (!r.size)
                continue;
        }
        if (r.protect & 0x01) /* PAGE_NOACCESS */
            r.perm = 0;
        else if (r.state == DS_MEM_COMMIT) {
            uint32_t pr = r.protect & 0xff;
            r.perm = 4;
            if (pr & (0x04 | 0x08 | 0x40 | 0x80))
                r.perm |= 2;
            if (pr & (0x10 | 0x20 | 0x40 | 0x80))
                r.perm |= 1;
        }
        d->regions[d->nregions++] = r;
    }
    sort_regions(m, "MINIDUMP_MEMORY_INFO_LIST", c.base_off);
    d->has_region_table = true;
    m->has_meminfo = true;
    return ok;
}

/* After ds_vmem_finish: bytes of each region present in the dump. */
static void compute_captured(ds_dump *d)
{
    for (size_t i = 0; i < d->nregions; i++) {
        ds_region *r = &d->regions[i];
        uint64_t end = r->base + r->size, got = 0;
        for (const ds_range *g = ds_vmem_next(&d->vm, r->base); g && g->va < end;
             g = ds_vmem_next(&d->vm, g->va + g->size)) {
            if (g->kind == DS_RANGE_DATA) {
                uint64_t a = g->va > r->base ? g->va : r->base;
                uint64_t b = g->va + g->size < end ? g->va + g->size : end;
                if (b > a)
                    got += b - a;
            }
            if (g->va + g->size == 0 || g->va + g->size >= end)
                break;
        }
        r->captured = got;
    }
}

/* ---- threads ------------------------------------------------------------------------------ */

/* PC/SP/FP from a CONTEXT by architecture (Windows and Breakpad layouts agree on these). */
typedef struct regs3 {
    uint64_t pc, sp, fp;
} regs3;

static regs3 context_regs(const uint8_t *ctx, uint32_t size, ds_arch arch)
{
    regs3 r3 = {0, 0, 0}, *t = &r3;
    ds_cursor c = ds_cur(ctx, size, 0);
    switch (arch) {
    case DS_ARCH_X86:
        if (c.len >= 0xc8) {
            ds_cursor r = ds_cur_sub(&c, 0xb4, 0x14);
            t->fp = ds_cur_u32(&r); /* Ebp 0xb4 */
            t->pc = ds_cur_u32(&r); /* Eip 0xb8 */
            ds_cur_skip(&r, 8);     /* SegCs, EFlags */
            t->sp = ds_cur_u32(&r); /* Esp 0xc4 */
        }
        break;
    case DS_ARCH_AMD64:
        if (c.len >= 0x100) {
            ds_cursor r = ds_cur_sub(&c, 0x98, 0x10);
            t->sp = ds_cur_u64(&r); /* Rsp 0x98 */
            t->fp = ds_cur_u64(&r); /* Rbp 0xa0 */
            ds_cursor q = ds_cur_sub(&c, 0xf8, 8);
            t->pc = ds_cur_u64(&q); /* Rip 0xf8 */
        }
        break;
    case DS_ARCH_ARM64:
        /* CONTEXT_ARM64 and Breakpad's MDRawContextARM64(_Old): X29 at 0xf0, Sp 0x100, Pc 0x108 */
        if (c.len >= 0x110) {
            ds_cursor r = ds_cur_sub(&c, 0xf0, 0x20);
            t->fp = ds_cur_u64(&r);
            ds_cur_u64(&r); /* lr */
            t->sp = ds_cur_u64(&r);
            t->pc = ds_cur_u64(&r);
        }
        break;
    case DS_ARCH_ARM:
        /* CONTEXT_ARM / MDRawContextARM: R0..R12 at 4, Sp 0x38, Lr 0x3c, Pc 0x40; FP = R11 */
        if (c.len >= 0x44) {
            ds_cursor r = ds_cur_sub(&c, 0x30, 0x14);
            t->fp = ds_cur_u32(&r);
            ds_cur_u32(&r); /* r12 */
            t->sp = ds_cur_u32(&r);
            ds_cur_u32(&r); /* lr */
            t->pc = ds_cur_u32(&r);
        }
        break;
    default:
        break;
    }
    return r3;
}

static bool set_context(md *m, ds_thread *t, uint32_t csize, uint32_t crva, const char *structure,
                        uint64_t off)
{
    if (!csize)
        return true;
    if (!in_file(m, crva, csize)) {
        if (structure) /* NULL: already reported enough of these */
            warn(m, structure, off, "thread context (0x%x bytes at RVA 0x%x) is outside the file",
                 csize, crva);
        return false;
    }
    ds_cursor c = ds_cur_sub(&m->file, crva, csize);
    t->context = ds_cur_bytes(&c, csize);
    t->context_size = csize;
    t->has_context = t->context != NULL;
    if (t->has_context) {
        regs3 r = context_regs(t->context, csize, m->d->sys.arch);
        t->pc = r.pc;
        t->sp = r.sp;
        t->fp = r.fp;
    }
    return true;
}

/* ThreadList (esz 48) and ThreadExList (esz 64, with a backing store). */
static bool parse_thread_list(md *m, ds_cursor c, bool ex)
{
    ds_dump *d = m->d;
    const char *lname = ex ? "MINIDUMP_THREAD_EX_LIST" : "MINIDUMP_THREAD_LIST";
    const char *ename = ex ? "MINIDUMP_THREAD_EX" : "MINIDUMP_THREAD";
    uint64_t esz = ex ? 64 : 48;
    bool ok = true;
    char sb[48];
    uint32_t declared = ds_cur_u32(&c);
    if (c.bad) {
        warn(m, lname, c.base_off, "stream too short for the thread count");
        return false;
    }
    uint64_t hdr = list_header(&c, declared, esz);
    uint64_t n = fit_count(m, lname, &c, hdr, esz, declared, &ok);
    if (n && !ds_grow((void **)&d->threads, &(size_t){0}, (size_t)n, sizeof *d->threads)) {
        warn(m, lname, c.base_off, "out of memory for %llu threads", (unsigned long long)n);
        return false;
    }
    int told = 0;
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, hdr + i * esz, esz);
        ds_thread *t = &d->threads[d->nthreads];
        memset(t, 0, sizeof *t);
        t->tid = ds_cur_u32(&e);
        t->suspend_count = ds_cur_u32(&e);
        t->priority_class = ds_cur_u32(&e);
        t->priority = ds_cur_u32(&e);
        t->teb = ds_cur_u64(&e);
        t->stack_start = ds_cur_u64(&e);
        uint32_t ssize = ds_cur_u32(&e);
        uint32_t srva = ds_cur_u32(&e);
        uint32_t csize = ds_cur_u32(&e);
        uint32_t crva = ds_cur_u32(&e);
        t->stack_size = ssize;
        const char *en = sname(sb, sizeof sb, ename, i);
        if (ssize && srva) {
            if (!in_file(m, srva, ssize)) {
                ok = false;
                if (told++ < MD_MAX_DIAGS_PER_STREAM)
                    warn(m, en, e.base_off,
                         "stack memory (0x%x bytes at RVA 0x%x) runs past the end of the file",
                         ssize, srva);
            }
            ds_vmem_add(&d->vm, t->stack_start, ssize, DS_RANGE_DATA, srva, (uint32_t)i);
        }
        if (!set_context(m, t, csize, crva, told < MD_MAX_DIAGS_PER_STREAM ? en : NULL,
                         e.base_off)) {
            ok = false;
            told++;
        }
        if (ex) {
            uint64_t bva = ds_cur_u64(&e);
            uint32_t bsize = ds_cur_u32(&e);
            uint32_t brva = ds_cur_u32(&e);
            if (bsize && brva)
                ds_vmem_add(&d->vm, bva, bsize, DS_RANGE_DATA, brva, (uint32_t)i);
        }
        d->nthreads++;
    }
    return ok;
}

typedef struct tid_ix {
    uint32_t tid;
    size_t idx;
} tid_ix;

static int cmp_tid_ix(const void *a, const void *b)
{
    const tid_ix *x = a, *y = b;
    if (x->tid != y->tid)
        return x->tid < y->tid ? -1 : 1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx ? 1 : 0);
}

/* Threads sorted by tid, for joining ThreadInfoList / ThreadNames (hostile counts: no O(n^2)). */
static tid_ix *tid_index(ds_dump *d)
{
    if (!d->nthreads)
        return NULL;
    tid_ix *ix = malloc(d->nthreads * sizeof *ix);
    if (!ix)
        return NULL;
    for (size_t i = 0; i < d->nthreads; i++)
        ix[i] = (tid_ix){d->threads[i].tid, i};
    qsort(ix, d->nthreads, sizeof *ix, cmp_tid_ix);
    return ix;
}

static ds_thread *find_tid(ds_dump *d, const tid_ix *ix, uint32_t tid)
{
    size_t lo = 0, hi = ix ? d->nthreads : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix[mid].tid < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ix && lo < d->nthreads && ix[lo].tid == tid ? &d->threads[ix[lo].idx] : NULL;
}

static bool parse_thread_info_list(md *m, ds_cursor c)
{
    ds_dump *d = m->d;
    bool ok = true;
    uint32_t hsz = ds_cur_u32(&c);
    uint32_t esz = ds_cur_u32(&c);
    uint32_t declared = ds_cur_u32(&c);
    if (c.bad || hsz < 12 || esz < 64 || hsz > c.len) {
        warn(m, "MINIDUMP_THREAD_INFO_LIST", c.base_off,
             "unusable header (SizeOfHeader %u, SizeOfEntry %u)", hsz, esz);
        return false;
    }
    uint64_t n = fit_count(m, "MINIDUMP_THREAD_INFO_LIST", &c, hsz, esz, declared, &ok);
    tid_ix *ix = tid_index(d);
    uint64_t unmatched = 0;
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, hsz + i * esz, 64);
        uint32_t tid = ds_cur_u32(&e);
        ds_thread *t = find_tid(d, ix, tid);
        if (!t) {
            unmatched++;
            continue;
        }
        t->has_info = true;
        t->dump_flags = ds_cur_u32(&e);
        t->dump_error = ds_cur_u32(&e);
        t->exit_status = ds_cur_u32(&e);
        t->create_time = ds_cur_u64(&e);
        t->exit_time = ds_cur_u64(&e);
        t->kernel_time = ds_cur_u64(&e);
        t->user_time = ds_cur_u64(&e);
        t->start_address = ds_cur_u64(&e);
        t->affinity = ds_cur_u64(&e);
    }
    free(ix);
    if (unmatched)
        note(m, "MINIDUMP_THREAD_INFO_LIST", c.base_off,
             "%llu entries name threads that are not in the thread list",
             (unsigned long long)unmatched);
    return ok;
}

static bool parse_thread_names(md *m, ds_cursor c)
{
    ds_dump *d = m->d;
    bool ok = true;
    uint32_t declared = ds_cur_u32(&c);
    if (c.bad) {
        warn(m, "MINIDUMP_THREAD_NAME_LIST", c.base_off, "stream too short for the count");
        return false;
    }
    uint64_t n = fit_count(m, "MINIDUMP_THREAD_NAME_LIST", &c, 4, 12, declared, &ok);
    tid_ix *ix = tid_index(d);
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, 4 + i * 12, 12);
        uint32_t tid = ds_cur_u32(&e);
        uint64_t rva = ds_cur_u64(&e);
        ds_thread *t = find_tid(d, ix, tid);
        if (!t)
            continue;
        if (rva > UINT32_MAX ||
            !read_mdstring_buf(m, (uint32_t)rva, t->name, sizeof t->name, "MINIDUMP_THREAD_NAME"))
            ok = false;
    }
    free(ix);
    return ok;
}

/* ---- modules ------------------------------------------------------------------------------ */

static void read_fixed_file_info(ds_module *mod, ds_cursor *e)
{
    uint32_t sig = ds_cur_u32(e);
    ds_cur_u32(e); /* dwStrucVersion */
    uint32_t fms = ds_cur_u32(e), fls = ds_cur_u32(e);
    uint32_t pms = ds_cur_u32(e), pls = ds_cur_u32(e);
    ds_cur_u32(e); /* dwFileFlagsMask */
    uint32_t flags = ds_cur_u32(e);
    uint32_t os = ds_cur_u32(e);
    uint32_t type = ds_cur_u32(e);
    ds_cur_skip(e, 12); /* dwFileSubtype, dwFileDateMS/LS */
    if (sig != 0xfeef04bdu)
        return;
    mod->file_version.valid = mod->product_version.valid = true;
    mod->file_version.v[0] = (uint16_t)(fms >> 16);
    mod->file_version.v[1] = (uint16_t)fms;
    mod->file_version.v[2] = (uint16_t)(fls >> 16);
    mod->file_version.v[3] = (uint16_t)fls;
    mod->product_version.v[0] = (uint16_t)(pms >> 16);
    mod->product_version.v[1] = (uint16_t)pms;
    mod->product_version.v[2] = (uint16_t)(pls >> 16);
    mod->product_version.v[3] = (uint16_t)pls;
    mod->file_flags = flags;
    mod->file_os = os;
    mod->file_type = type;
}

static bool read_codeview(md *m, ds_codeview *cv, uint32_t size, uint32_t rva,
                          const char *structure, uint64_t off)
{
    if (!size)
        return true;
    if (!in_file(m, rva, size)) {
        warn(m, structure, off, "CodeView record (0x%x bytes at RVA 0x%x) is outside the file",
             size, rva);
        return false;
    }
    ds_cursor c = ds_cur_sub(&m->file, rva, size);
    uint32_t sig = ds_cur_u32(&c);
    if (sig == 0x53445352u) { /* 'RSDS' */
        if (size < 24) {
            warn(m, structure, rva, "RSDS CodeView record of %u bytes is too short", size);
            return false;
        }
        cv->kind = 1;
        ds_cur_copy(&c, cv->guid, 16);
        cv->age = ds_cur_u32(&c);
        uint64_t left = ds_cur_left(&c);
        ds_copy_clean(cv->pdb, sizeof cv->pdb, ds_cur_bytes(&c, left), (size_t)left);
    } else if (sig == 0x3031424eu) { /* 'NB10' */
        if (size < 16) {
            warn(m, structure, rva, "NB10 CodeView record of %u bytes is too short", size);
            return false;
        }
        cv->kind = 2;
        ds_cur_u32(&c); /* offset */
        cv->signature = ds_cur_u32(&c);
        cv->age = ds_cur_u32(&c);
        uint64_t left = ds_cur_left(&c);
        ds_copy_clean(cv->pdb, sizeof cv->pdb, ds_cur_bytes(&c, left), (size_t)left);
    } else if (sig == 0x4270454cu) { /* Breakpad 'BpEL' (bytes "LEpB"): ELF build id */
        uint64_t left = ds_cur_left(&c);
        if (left > sizeof cv->build_id)
            left = sizeof cv->build_id;
        cv->kind = 3;
        cv->build_id_len = (uint32_t)left;
        ds_cur_copy(&c, cv->build_id, left);
    }
    return true;
}

static void set_module_path(md *m, ds_module *mod, uint32_t name_rva, const char *structure)
{
    mod->path = read_mdstring(m, name_rva, MD_MAX_STRING_BYTES, structure);
    if (!mod->path)
        mod->path = ds_strdup("");
    mod->name = ds_basename(mod->path);
}

static bool parse_module_list(md *m, ds_cursor c)
{
    ds_dump *d = m->d;
    bool ok = true;
    char sb[48];
    uint32_t declared = ds_cur_u32(&c);
    if (c.bad) {
        warn(m, "MINIDUMP_MODULE_LIST", c.base_off, "stream too short for the module count");
        return false;
    }
    uint64_t hdr = list_header(&c, declared, 108);
    uint64_t n = fit_count(m, "MINIDUMP_MODULE_LIST", &c, hdr, 108, declared, &ok);
    if (n && !ds_grow((void **)&d->modules, &(size_t){0}, (size_t)n, sizeof *d->modules)) {
        warn(m, "MINIDUMP_MODULE_LIST", c.base_off, "out of memory for %llu modules",
             (unsigned long long)n);
        return false;
    }
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, hdr + i * 108, 108);
        ds_module *mod = &d->modules[d->nmodules];
        memset(mod, 0, sizeof *mod);
        const char *en = sname(sb, sizeof sb, "MINIDUMP_MODULE", i);
        mod->base = ds_cur_u64(&e);
        mod->size = ds_cur_u32(&e);
        mod->checksum = ds_cur_u32(&e);
        mod->timestamp = ds_cur_u32(&e);
        uint32_t name_rva = ds_cur_u32(&e);
        read_fixed_file_info(mod, &e);
        uint32_t cv_size = ds_cur_u32(&e);
        uint32_t cv_rva = ds_cur_u32(&e);
        set_module_path(m, mod, name_rva, en);
        d->nmodules++;
        if (!mod->path[0])
            ok = false;
        if (!read_codeview(m, &mod->cv, cv_size, cv_rva, en, e.base_off))
            ok = false;
    }
    return ok;
}

static bool parse_unloaded_module_list(md *m, ds_cursor c)
{
    ds_dump *d = m->d;
    bool ok = true;
    char sb[48];
    uint32_t hsz = ds_cur_u32(&c);
    uint32_t esz = ds_cur_u32(&c);
    uint32_t declared = ds_cur_u32(&c);
    if (c.bad || hsz < 12 || esz < 24 || hsz > c.len) {
        warn(m, "MINIDUMP_UNLOADED_MODULE_LIST", c.base_off,
             "unusable header (SizeOfHeader %u, SizeOfEntry %u)", hsz, esz);
        return false;
    }
    uint64_t n = fit_count(m, "MINIDUMP_UNLOADED_MODULE_LIST", &c, hsz, esz, declared, &ok);
    if (n && !ds_grow((void **)&d->unloaded, &(size_t){0}, (size_t)n, sizeof *d->unloaded)) {
        warn(m, "MINIDUMP_UNLOADED_MODULE_LIST", c.base_off, "out of memory");
        return false;
    }
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, hsz + i * esz, 24);
        ds_module *mod = &d->unloaded[d->nunloaded];
        memset(mod, 0, sizeof *mod);
        mod->unloaded = true;
        mod->base = ds_cur_u64(&e);
        mod->size = ds_cur_u32(&e);
        mod->checksum = ds_cur_u32(&e);
        mod->timestamp = ds_cur_u32(&e);
        uint32_t name_rva = ds_cur_u32(&e);
        set_module_path(m, mod, name_rva, sname(sb, sizeof sb, "MINIDUMP_UNLOADED_MODULE", i));
        if (!mod->path[0])
            ok = false;
        d->nunloaded++;
    }
    return ok;
}

/* ---- exception, misc, handles, comments, counters ----------------------------------------- */

static bool parse_exception(md *m, ds_cursor c)
{
    ds_exception *x = &m->d->exc;
    if (c.len < 168) {
        warn(m, "MINIDUMP_EXCEPTION_STREAM", c.base_off, "stream of %llu bytes is shorter than 168",
             (unsigned long long)c.len);
        return false;
    }
    x->tid = ds_cur_u32(&c);
    ds_cur_u32(&c);
    x->code = ds_cur_u32(&c);
    x->flags = ds_cur_u32(&c);
    x->record = ds_cur_u64(&c);
    x->address = ds_cur_u64(&c);
    uint32_t np = ds_cur_u32(&c);
    ds_cur_u32(&c);
    bool ok = true;
    if (np > 15) {
        warn(m, "MINIDUMP_EXCEPTION", c.base_off + 8,
             "NumberParameters %u is larger than 15: clipped", np);
        np = 15;
        ok = false;
    }
    x->nparams = np;
    for (int i = 0; i < 15; i++) {
        uint64_t v = ds_cur_u64(&c);
        if ((uint32_t)i < np)
            x->params[i] = v;
    }
    uint32_t csize = ds_cur_u32(&c);
    uint32_t crva = ds_cur_u32(&c);
    if (csize && !in_file(m, crva, csize)) {
        warn(m, "MINIDUMP_EXCEPTION_STREAM", c.base_off,
             "exception context (0x%x bytes at RVA 0x%x) is outside the file", csize, crva);
        ok = false;
    }
    x->present = true;
    x->name = exception_name(m->d->sys.os, x->code);
    if (m->d->sys.os == DS_OS_LINUX || m->d->sys.os == DS_OS_ANDROID) {
        /* Breakpad Linux: ExceptionCode = signal, ExceptionFlags = si_code */
        x->si_code = (int32_t)x->flags;
        x->fault_addr = x->address;
    }
    return ok;
}

/* The context stored with the exception record (the faulting state). Threads keep their own
 * ThreadList context; a faulting thread that has none gets this one. */
static void exception_context(md *m, ds_cursor c)
{
    ds_dump *d = m->d;
    if (c.len < 168 || !d->exc.present)
        return;
    ds_cursor e = ds_cur_sub(&c, 160, 8);
    uint32_t csize = ds_cur_u32(&e), crva = ds_cur_u32(&e);
    if (!csize || !in_file(m, crva, csize))
        return;
    ds_cursor cc = ds_cur_sub(&m->file, crva, csize);
    d->exc.context = ds_cur_bytes(&cc, csize);
    if (!d->exc.context)
        return;
    d->exc.context_size = csize;
    d->exc.has_context = true;
    regs3 r = context_regs(d->exc.context, csize, d->sys.arch);
    d->exc.pc = r.pc;
    d->exc.sp = r.sp;
    d->exc.fp = r.fp;
    for (size_t i = 0; i < d->nthreads; i++)
        if (d->threads[i].tid == d->exc.tid && !d->threads[i].has_context)
            set_context(m, &d->threads[i], csize, crva, "MINIDUMP_EXCEPTION_STREAM", c.base_off);
}

static void read_wchars(ds_cursor *c, size_t nchars, char *out, size_t outsz)
{
    const uint8_t *b = ds_cur_bytes(c, nchars * 2);
    if (b)
        ds_utf16le_to_utf8(b, nchars, out, outsz);
    else
        out[0] = 0;
}

static bool parse_misc_info(md *m, ds_cursor c)
{
    ds_misc *mi = &m->d->misc;
    uint32_t sz = ds_cur_u32(&c);
    uint32_t flags = ds_cur_u32(&c);
    if (c.bad || c.len < 0x18) {
        warn(m, "MINIDUMP_MISC_INFO", c.base_off, "stream of %llu bytes is shorter than 24",
             (unsigned long long)c.len);
        return false;
    }
    bool ok = true;
    if (sz > c.len) {
        warn(m, "MINIDUMP_MISC_INFO", c.base_off,
             "SizeOfInfo %u is larger than the stream (%llu bytes): stream size used", sz,
             (unsigned long long)c.len);
        sz = (uint32_t)(c.len > UINT32_MAX ? UINT32_MAX : c.len);
        ok = false;
    }
    /* MINIDUMP_MISC_INFO 0x18, _2 0x2c, _3 0xe8, _4 0x340, _5 0x554 (pack(4) sizes). */
    mi->misc_version = sz >= 0x554 ? 5 : sz >= 0x340 ? 4 : sz >= 0xe8 ? 3 : sz >= 0x2c ? 2 : 1;
    uint32_t pid = ds_cur_u32(&c);
    uint32_t ct = ds_cur_u32(&c), ut = ds_cur_u32(&c), kt = ds_cur_u32(&c);
    if (flags & 0x1) {
        mi->has_pid = true;
        mi->pid = pid;
    }
    if (flags & 0x2) {
        mi->has_times = true;
        mi->process_create_time = ct;
        mi->process_user_time = ut;
        mi->process_kernel_time = kt;
    }
    if (mi->misc_version >= 2) {
        uint32_t v[5];
        for (int i = 0; i < 5; i++)
            v[i] = ds_cur_u32(&c);
        if (flags & 0x4) {
            mi->has_cpu = true;
            mi->cpu_max_mhz = v[0];
            mi->cpu_current_mhz = v[1];
            mi->cpu_mhz_limit = v[2];
            mi->cpu_max_idle_state = v[3];
            mi->cpu_current_idle_state = v[4];
        }
    }
    if (mi->misc_version >= 3) {
        uint32_t integrity = ds_cur_u32(&c);
        uint32_t exec = ds_cur_u32(&c);
        ds_cur_u32(&c); /* ProtectedProcess */
        ds_cur_u32(&c); /* TimeZoneId */
        int32_t bias = (int32_t)ds_cur_u32(&c);
        char stdn[64], dayn[64];
        read_wchars(&c, 32, stdn, sizeof stdn);
        ds_cur_skip(&c, 16 + 4); /* StandardDate, StandardBias */
        read_wchars(&c, 32, dayn, sizeof dayn);
        ds_cur_skip(&c, 16 + 4); /* DaylightDate, DaylightBias */
        if (flags & 0x10) {
            mi->has_integrity = true;
            mi->process_integrity_level = integrity;
        }
        if (flags & 0x20) {
            mi->has_exec_flags = true;
            mi->process_execute_flags = exec;
        }
        if (flags & 0x40) {
            mi->has_timezone = true;
            mi->tz_bias = bias;
            snprintf(mi->tz_standard, sizeof mi->tz_standard, "%s", stdn);
            snprintf(mi->tz_daylight, sizeof mi->tz_daylight, "%s", dayn);
        }
    }
    if (mi->misc_version >= 4) {
        read_wchars(&c, 260, mi->build_string, sizeof mi->build_string);
        read_wchars(&c, 40, mi->dbg_bld_str, sizeof mi->dbg_bld_str);
        if (!(flags & 0x100))
            mi->build_string[0] = mi->dbg_bld_str[0] = 0;
    }
    if (mi->misc_version >= 5) {
        ds_cur_skip(&c, 528); /* XSTATE_CONFIG_FEATURE_MSC_INFO */
        uint32_t cookie = ds_cur_u32(&c);
        if (flags & 0x200) {
            mi->has_cookie = true;
            mi->process_cookie = cookie;
        }
    }
    if (c.bad) {
        warn(m, "MINIDUMP_MISC_INFO", c.base_off, "stream ends inside version %u fields",
             mi->misc_version);
        ok = false;
    }
    return ok;
}

static bool parse_handle_data(md *m, ds_cursor c)
{
    ds_dump *d = m->d;
    bool ok = true;
    char sb[48];
    uint32_t hsz = ds_cur_u32(&c);
    uint32_t esz = ds_cur_u32(&c);
    uint32_t declared = ds_cur_u32(&c);
    if (c.bad || hsz < 16 || esz < 32 || hsz > c.len) {
        warn(m, "MINIDUMP_HANDLE_DATA_STREAM", c.base_off,
             "unusable header (SizeOfHeader %u, SizeOfDescriptor %u)", hsz, esz);
        return false;
    }
    uint64_t n = fit_count(m, "MINIDUMP_HANDLE_DATA_STREAM", &c, hsz, esz, declared, &ok);
    if (n && !ds_grow((void **)&d->handles, &(size_t){0}, (size_t)n, sizeof *d->handles)) {
        warn(m, "MINIDUMP_HANDLE_DATA_STREAM", c.base_off, "out of memory");
        return false;
    }
    d->has_handles = true;
    int told = 0;
    for (uint64_t i = 0; i < n; i++) {
        ds_cursor e = ds_cur_sub(&c, hsz + i * esz, 32);
        ds_handle *h = &d->handles[d->nhandles++];
        memset(h, 0, sizeof *h);
        h->handle = ds_cur_u64(&e);
        uint32_t trva = ds_cur_u32(&e), orva = ds_cur_u32(&e);
        h->attributes = ds_cur_u32(&e);
        h->granted_access = ds_cur_u32(&e);
        h->handle_count = ds_cur_u32(&e);
        h->pointer_count = ds_cur_u32(&e);
        const char *en = sname(sb, sizeof sb, "MINIDUMP_HANDLE_DESCRIPTOR", i);
        /* After a few bad names, stop reading them (and stop reporting each one). */
        if (trva && told < MD_MAX_DIAGS_PER_STREAM) {
            h->type_name = read_mdstring(m, trva, 1024, en);
            if (!h->type_name) {
                told++;
                ok = false;
            }
        }
        if (orva && told < MD_MAX_DIAGS_PER_STREAM) {
            h->object_name = read_mdstring(m, orva, 4096, en);
            if (!h->object_name) {
                told++;
                ok = false;
            }
        }
    }
    return ok;
}

static bool parse_comment(md *m, ds_cursor c, bool wide)
{
    ds_dump *d = m->d;
    uint64_t len = c.len > MD_MAX_STRING_BYTES * 16ull ? MD_MAX_STRING_BYTES * 16ull : c.len;
    const uint8_t *b = ds_cur_bytes(&c, len);
    if (!b)
        return len == 0;
    if (!take_budget(m, len * 2 + 1, c.base_off))
        return false;
    if (wide) {
        free(d->comment_w);
        d->comment_w = ds_utf16le_dup(b, (size_t)(len / 2));
    } else {
        free(d->comment_a);
        size_t k = 0;
        while (k < len && b[k])
            k++;
        d->comment_a = ds_strndup((const char *)b, k);
    }
    return true;
}

static bool parse_vm_counters(md *m, ds_cursor c)
{
    ds_vm_counters *v = &m->d->vmc;
    uint16_t rev = ds_cur_u16(&c);
    if (c.bad) {
        warn(m, "MINIDUMP_PROCESS_VM_COUNTERS", c.base_off, "empty stream");
        return false;
    }
    if (rev == 1 && c.len >= 80) {
        ds_cur_u16(&c);
        v->page_fault_count = ds_cur_u32(&c);
        v->peak_working_set = ds_cur_u64(&c);
        v->working_set = ds_cur_u64(&c);
        v->quota_peak_paged_pool = ds_cur_u64(&c);
        v->quota_paged_pool = ds_cur_u64(&c);
        v->quota_peak_nonpaged_pool = ds_cur_u64(&c);
        v->quota_nonpaged_pool = ds_cur_u64(&c);
        v->pagefile_usage = ds_cur_u64(&c);
        v->peak_pagefile_usage = ds_cur_u64(&c);
        v->private_usage = ds_cur_u64(&c);
    } else if (rev == 2 && c.len >= 152) {
        ds_cur_u16(&c); /* Flags */
        v->page_fault_count = ds_cur_u32(&c);
        v->peak_working_set = ds_cur_u64(&c);
        v->working_set = ds_cur_u64(&c);
        v->quota_peak_paged_pool = ds_cur_u64(&c);
        v->quota_paged_pool = ds_cur_u64(&c);
        v->quota_peak_nonpaged_pool = ds_cur_u64(&c);
        v->quota_nonpaged_pool = ds_cur_u64(&c);
        v->pagefile_usage = ds_cur_u64(&c);
        v->peak_pagefile_usage = ds_cur_u64(&c);
        v->peak_virtual_size = ds_cur_u64(&c);
        v->virtual_size = ds_cur_u64(&c);
        v->private_usage = ds_cur_u64(&c);
        v->private_working_set = ds_cur_u64(&c);
        v->shared_commit_usage = ds_cur_u64(&c);
        ds_cur_u64(&c); /* JobSharedCommitUsage */
        v->job_private_usage = ds_cur_u64(&c);
        ds_cur_u64(&c); /* JobPeakPrivateCommitUsage */
        v->job_private_commit_limit = ds_cur_u64(&c);
        v->job_total_commit_limit = ds_cur_u64(&c);
    } else {
        warn(m, "MINIDUMP_PROCESS_VM_COUNTERS", c.base_off,
             "revision %u with %llu bytes is not a known layout", rev, (unsigned long long)c.len);
        return false;
    }
    v->revision = rev;
    v->present = !c.bad;
    return !c.bad;
}

static bool parse_system_memory_info(md *m, ds_cursor c)
{
    uint16_t rev = ds_cur_u16(&c);
    if (c.bad || rev != 1 || c.len < 492) {
        warn(m, "MINIDUMP_SYSTEM_MEMORY_INFO_1", c.base_off,
             "revision %u with %llu bytes is not a known layout (revision 1, 492 bytes)", rev,
             (unsigned long long)c.len);
        return false;
    }
    m->d->has_system_memory_info = true;
    return true;
}

/* ---- Breakpad / Crashpad ------------------------------------------------------------------ */

/* Value of "Key:\t..." in /proc/PID/status text (first field only). */
static bool status_field(const char *t, size_t n, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && t[j] != '\n')
            j++;
        if (j - i > kl && !memcmp(t + i, key, kl) && t[i + kl] == ':') {
            size_t a = i + kl + 1;
            while (a < j && (t[a] == ' ' || t[a] == '\t'))
                a++;
            size_t b = a;
            while (b < j && t[b] != '\t' && t[b] != ' ')
                b++;
            ds_copy_clean(out, outsz, (const uint8_t *)t + a, b - a);
            return true;
        }
        i = j + 1;
    }
    return false;
}

static bool parse_proc_status(md *m, ds_cursor c)
{
    ds_linux_info *l = &m->d->lnx;
    uint64_t len = c.len > MD_MAX_TEXT_STREAM ? MD_MAX_TEXT_STREAM : c.len;
    const char *t = (const char *)ds_cur_bytes(&c, len);
    if (!t)
        return len == 0;
    char v[64];
    bool any = false;
    if (status_field(t, (size_t)len, "Name", l->fname, sizeof l->fname))
        any = true;
    if (status_field(t, (size_t)len, "State", v, sizeof v))
        l->state = v[0];
    if (status_field(t, (size_t)len, "Pid", v, sizeof v))
        l->pid = (uint32_t)strtoul(v, NULL, 10);
    if (status_field(t, (size_t)len, "PPid", v, sizeof v))
        l->ppid = (uint32_t)strtoul(v, NULL, 10);
    if (status_field(t, (size_t)len, "Uid", v, sizeof v))
        l->uid = (uint32_t)strtoul(v, NULL, 10);
    if (status_field(t, (size_t)len, "Gid", v, sizeof v))
        l->gid = (uint32_t)strtoul(v, NULL, 10);
    /* The process facts of prpsinfo, here from /proc/PID/status. */
    l->has_prpsinfo = any || l->pid;
    if (l->pid && !m->d->misc.has_pid) {
        m->d->misc.has_pid = true;
        m->d->misc.pid = l->pid;
    }
    return true;
}

static bool parse_cmdline(md *m, ds_cursor c)
{
    ds_linux_info *l = &m->d->lnx;
    uint64_t len = c.len < sizeof l->psargs - 1 ? c.len : sizeof l->psargs - 1;
    const uint8_t *b = ds_cur_bytes(&c, len);
    if (!b)
        return len == 0;
    size_t k = 0;
    for (uint64_t i = 0; i < len; i++)
        l->psargs[k++] = b[i] == 0 ? ' ' : ((b[i] < 0x20 || b[i] == 0x7f) ? '?' : (char)b[i]);
    while (k && l->psargs[k - 1] == ' ')
        k--;
    l->psargs[k] = 0;
    return true;
}

static bool parse_auxv(md *m, ds_cursor c)
{
    ds_linux_info *l = &m->d->lnx;
    unsigned ps = m->d->sys.ptr_size ? m->d->sys.ptr_size : 8;
    uint64_t n = c.len / (2ull * ps);
    if (c.len % (2ull * ps))
        note(m, "BreakpadLinuxAuxv", c.base_off, "stream size %llu is not a multiple of %u",
             (unsigned long long)c.len, 2 * ps);
    if (n > 4096)
        n = 4096;
    free(l->auxv);
    l->auxv = NULL;
    l->nauxv = 0;
    if (!n)
        return true;
    l->auxv = calloc((size_t)n, sizeof *l->auxv);
    if (!l->auxv)
        return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t type = ds_cur_ptr(&c, ps), val = ds_cur_ptr(&c, ps);
        l->auxv[l->nauxv++] = (ds_auxv){type, val};
        if (type == 0) /* AT_NULL */
            break;
    }
    return true;
}

static uint64_t parse_hex(const char **pp, const char *end, bool *ok)
{
    const char *p = *pp;
    uint64_t v = 0;
    int digits = 0;
    while (p < end) {
        char ch = *p;
        int x = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (x < 0)
            break;
        if (++digits > 16)
            *ok = false;
        v = v << 4 | (uint64_t)x;
        p++;
    }
    if (!digits)
        *ok = false;
    *pp = p;
    return v;
}

/* /proc/PID/maps text -> lnx.files and (without a MemoryInfoList) the region table. */
static bool parse_linux_maps(md *m, ds_cursor c, bool make_regions)
{
    ds_dump *d = m->d;
    ds_linux_info *l = &d->lnx;
    uint64_t len = c.len > 16 * MD_MAX_TEXT_STREAM ? 16 * MD_MAX_TEXT_STREAM : c.len;
    const char *t = (const char *)ds_cur_bytes(&c, len);
    if (!t)
        return len == 0;
    const char *end = t + len;
    size_t rcap = 0, fcap = 0, line = 0;
    bool ok = true;
    int told = 0;
    for (const char *p = t; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *q = p;
        bool lok = true;
        uint64_t start = parse_hex(&q, eol, &lok);
        if (q < eol && *q == '-')
            q++;
        else
            lok = false;
        uint64_t stop = parse_hex(&q, eol, &lok);
        while (q < eol && *q == ' ')
            q++;
        uint32_t perm = 0;
        if (eol - q >= 4) {
            perm = (q[0] == 'r' ? 4u : 0u) | (q[1] == 'w' ? 2u : 0u) | (q[2] == 'x' ? 1u : 0u);
            q += 4;
        } else
            lok = false;
        while (q < eol && *q == ' ')
            q++;
        uint64_t foff = parse_hex(&q, eol, &lok);
        /* dev, inode, then the path */
        for (int f = 0; f < 2 && q < eol; f++) {
            while (q < eol && *q == ' ')
                q++;
            while (q < eol && *q != ' ')
                q++;
        }
        while (q < eol && *q == ' ')
            q++;
        if (!lok || stop <= start) {
            if (eol > p && told++ < MD_MAX_DIAGS_PER_STREAM) {
                warn(m, "BreakpadLinuxMaps", c.base_off + (uint64_t)(p - t),
                     "line %zu is not a maps entry: skipped", line + 1);
                ok = false;
            }
            p = eol + 1;
            continue;
        }
        int32_t file = -1;
        if (q < eol && *q == '/') {
            ds_file_map fm = {start, stop, foff, ds_strndup(q, (size_t)(eol - q))};
            if (fm.path && take_budget(m, (uint64_t)(eol - q), c.base_off) &&
                DS_PUSH(l->files, l->nfiles, fcap, fm))
                file = (int32_t)(l->nfiles - 1);
            else
                free(fm.path);
        }
        if (make_regions) {
            ds_region r;
            memset(&r, 0, sizeof r);
            r.base = r.alloc_base = start;
            r.size = stop - start;
            r.state = DS_MEM_COMMIT;
            r.perm = perm;
            r.file = file;
            /* typed like ELF core regions: anonymous = private, file-backed = mapped (images are
             * upgraded to MEM_IMAGE once the module list is known: maps_region_types) */
            r.type = file >= 0 ? DS_MEM_MAPPED : DS_MEM_PRIVATE;
            r.protect = (perm & 1)   ? ((perm & 2) ? 0x40u : ((perm & 4) ? 0x20u : 0x10u))
                        : (perm & 2) ? 0x04u
                        : (perm & 4) ? 0x02u
                                     : 0x01u;
            if (!DS_PUSH(d->regions, d->nregions, rcap, r))
                break;
        }
        p = eol + 1;
    }
    if (make_regions && d->nregions) {
        sort_regions(m, "BreakpadLinuxMaps", c.base_off);
        d->has_region_table = true;
        m->has_maps_regions = true;
    }
    return ok;
}

static bool parse_lsb_release(md *m, ds_cursor c)
{
    /* DISTRIB_DESCRIPTION="Ubuntu 14.04 LTS" or PRETTY_NAME="..." -> appended to os_text. */
    uint64_t len = c.len > MD_MAX_TEXT_STREAM ? MD_MAX_TEXT_STREAM : c.len;
    const char *t = (const char *)ds_cur_bytes(&c, len);
    if (!t)
        return len == 0;
    static const char *keys[] = {"DISTRIB_DESCRIPTION=", "PRETTY_NAME="};
    for (size_t k = 0; k < 2; k++) {
        size_t kl = strlen(keys[k]);
        for (size_t i = 0; i + kl <= len;) {
            size_t j = i;
            while (j < len && t[j] != '\n')
                j++;
            if (j - i >= kl && !memcmp(t + i, keys[k], kl)) {
                size_t a = i + kl, b = j;
                if (a < b && t[a] == '"')
                    a++;
                if (b > a && t[b - 1] == '"')
                    b--;
                char desc[96];
                ds_copy_clean(desc, sizeof desc, (const uint8_t *)t + a, b - a);
                size_t ol = strlen(m->d->sys.os_text);
                if (desc[0] && ol + 4 < sizeof m->d->sys.os_text)
                    snprintf(m->d->sys.os_text + ol, sizeof m->d->sys.os_text - ol, " (%s)", desc);
                return true;
            }
            i = j + 1;
        }
    }
    return true;
}

static bool parse_breakpad_info(md *m, ds_cursor c)
{
    if (c.len < 12) {
        warn(m, "MDRawBreakpadInfo", c.base_off, "stream of %llu bytes is shorter than 12",
             (unsigned long long)c.len);
        return false;
    }
    return true;
}

static bool parse_crashpad_info(md *m, ds_cursor c)
{
    uint32_t version = ds_cur_u32(&c);
    if (c.bad || c.len < 52) {
        warn(m, "MinidumpCrashpadInfo", c.base_off, "stream of %llu bytes is shorter than 52",
             (unsigned long long)c.len);
        return false;
    }
    if (version != 1)
        note(m, "MinidumpCrashpadInfo", c.base_off, "version %u (expected 1)", version);
    return true;
}

/* ---- TEB / PEB / WoW64 -------------------------------------------------------------------- */

static bool is_pe32_image(ds_dump *d, uint64_t base)
{
    uint16_t mz = 0, magic = 0;
    uint32_t lfanew = 0;
    if (ds_vmem_u16(&d->vm, base, &mz) != DS_MEM_OK || mz != 0x5a4d)
        return false;
    if (ds_vmem_u32(&d->vm, base + 0x3c, &lfanew) != DS_MEM_OK || lfanew > 0x10000)
        return false;
    uint32_t sig = 0;
    if (ds_vmem_u32(&d->vm, base + lfanew, &sig) != DS_MEM_OK || sig != 0x4550)
        return false;
    return ds_vmem_u16(&d->vm, base + lfanew + 0x18, &magic) == DS_MEM_OK && magic == 0x10b;
}

/* A 32-bit TEB at `cand`: its NT_TIB32.Self (at +0x18) points to itself. */
static bool valid_teb32(ds_dump *d, uint64_t cand)
{
    uint32_t self = 0;
    if (!cand || cand > 0xffffffffull)
        return false;
    return ds_vmem_u32(&d->vm, cand + 0x18, &self) == DS_MEM_OK && self == cand;
}

static void windows_teb_pass(md *m)
{
    ds_dump *d = m->d;
    ds_system *s = &d->sys;
    bool x64 = s->ptr_size == 8;
    bool any_teb32 = false;
    for (size_t i = 0; i < d->nthreads; i++) {
        ds_thread *t = &d->threads[i];
        if (!t->teb)
            continue;
        uint64_t base = 0, limit = 0, peb = 0;
        unsigned ps = x64 ? 8 : 4;
        if (ds_vmem_ptr_sized(&d->vm, t->teb + ps, ps, &base) == DS_MEM_OK &&
            ds_vmem_ptr_sized(&d->vm, t->teb + 2 * ps, ps, &limit) == DS_MEM_OK && base > limit) {
            t->stack_base = base;
            t->stack_limit = limit;
            t->has_tib = true;
        }
        if (!d->peb &&
            ds_vmem_ptr_sized(&d->vm, t->teb + (x64 ? 0x60 : 0x30), ps, &peb) == DS_MEM_OK && peb)
            d->peb = peb;
        if (s->arch != DS_ARCH_AMD64)
            continue;
        /* WoW64: WowTebOffset (Windows 10+) or the classic TEB64 + 0x2000. */
        uint32_t wow_off = 0;
        uint64_t cand = 0;
        if (ds_vmem_u32(&d->vm, t->teb + 0x180c, &wow_off) == DS_MEM_OK && wow_off &&
            (int32_t)wow_off > 0 && valid_teb32(d, t->teb + (uint32_t)wow_off))
            cand = t->teb + (uint32_t)wow_off;
        else if (valid_teb32(d, t->teb + 0x2000))
            cand = t->teb + 0x2000;
        if (cand) {
            t->teb32 = cand;
            any_teb32 = true;
            uint32_t peb32 = 0;
            if (!d->peb32 && ds_vmem_u32(&d->vm, cand + 0x30, &peb32) == DS_MEM_OK && peb32)
                d->peb32 = peb32;
        }
    }
    if (s->arch != DS_ARCH_AMD64)
        return;
    bool wow_dll = false, pe32_main = false;
    for (size_t i = 0; i < d->nmodules; i++) {
        const char *nm = d->modules[i].name ? d->modules[i].name : "";
        if (!strcasecmp(nm, "wow64.dll") || !strcasecmp(nm, "wow64cpu.dll") ||
            !strcasecmp(nm, "wow64win.dll"))
            wow_dll = true;
    }
    if (d->nmodules && is_pe32_image(d, d->modules[0].base))
        pe32_main = true;
    /* A TEB32-shaped page alone is not proof: Wine allocates one for native 64-bit threads too
     * (native-x64 fixture). WoW64 needs the wow64 layer or a PE32 main image. */
    if (!wow_dll && !pe32_main) {
        for (size_t i = 0; i < d->nthreads; i++)
            d->threads[i].teb32 = 0;
        d->peb32 = 0;
        any_teb32 = false;
    }
    if (wow_dll || pe32_main) {
        s->wow64 = true;
        s->target_ptr_size = 4;
        uint64_t off = 0;
        for (size_t i = 0; i < d->nstreams; i++)
            if (d->streams[i].type == ST_SYSTEM_INFO) {
                off = d->streams[i].offset;
                break;
            }
        note(m, "MINIDUMP_SYSTEM_INFO", off, "WoW64 process (%s%s%s)",
             any_teb32 ? "32-bit TEBs " : "", wow_dll ? "wow64 DLLs " : "",
             pe32_main ? "PE32 main image" : "");
    }
}

/* ---- dump kind ---------------------------------------------------------------------------- */

static bool readable_protect(uint32_t p)
{
    return !(p & 0x01) && !(p & 0x100) && (p & 0xff);
}

/* Regions from LinuxMaps whose file is a loaded module are images. */
static void maps_region_types(md *m)
{
    ds_dump *d = m->d;
    if (!m->has_maps_regions)
        return;
    for (size_t i = 0; i < d->nregions; i++) {
        ds_region *r = &d->regions[i];
        if (r->file < 0 || (size_t)r->file >= d->lnx.nfiles || !d->lnx.files[r->file].path)
            continue;
        for (size_t k = 0; k < d->nmodules; k++)
            if (d->modules[k].path && !strcmp(d->modules[k].path, d->lnx.files[r->file].path)) {
                r->type = DS_MEM_IMAGE;
                break;
            }
    }
}

static void classify(md *m)
{
    ds_dump *d = m->d;
    uint64_t f = d->dump_flags;
    char *why = d->kind_reason;
    size_t wn = sizeof d->kind_reason;
    if (f & MDT_FILTER_TRIAGE) {
        d->kind = DS_KIND_TRIAGE;
        snprintf(why, wn, "MiniDumpFilterTriage flag (0x100000) set");
        return;
    }
    uint64_t need = 0, have = 0, prw = 0, prw_have = 0;
    if (m->has_meminfo) {
        for (size_t i = 0; i < d->nregions; i++) {
            const ds_region *r = &d->regions[i];
            if (r->state != DS_MEM_COMMIT || !readable_protect(r->protect))
                continue;
            need += r->size;
            have += r->captured < r->size ? r->captured : r->size;
            if (r->type == DS_MEM_PRIVATE && (r->protect & (0x04 | 0x08 | 0x40 | 0x80))) {
                prw += r->size;
                prw_have += r->captured < r->size ? r->captured : r->size;
            }
        }
    }
    if (m->has_mem64 && m->has_meminfo && need && have == need) {
        d->kind = DS_KIND_FULL;
        snprintf(why, wn,
                 "Memory64List covers every committed readable region of MemoryInfoList "
                 "(%llu bytes)",
                 (unsigned long long)need);
        return;
    }
    if (f & MDT_WITH_FULL_MEMORY) {
        d->kind = DS_KIND_FULL;
        if (m->has_meminfo && need && have < need)
            snprintf(why, wn,
                     "MiniDumpWithFullMemory flag (0x2) set; %llu of %llu committed readable "
                     "bytes captured",
                     (unsigned long long)have, (unsigned long long)need);
        else
            snprintf(why, wn, "MiniDumpWithFullMemory flag (0x2) set");
        return;
    }
    if (m->has_mem64 && !m->has_meminfo) {
        d->kind = DS_KIND_FULL;
        snprintf(why, wn, "Memory64List present (no MemoryInfoList to verify coverage)");
        return;
    }
    if (f & MDT_WITH_PRIVATE_RW_MEMORY) {
        d->kind = DS_KIND_WITH_HEAP;
        snprintf(why, wn, "MiniDumpWithPrivateReadWriteMemory flag (0x200) set");
        return;
    }
    if (prw && prw_have * 2 > prw) {
        d->kind = DS_KIND_WITH_HEAP;
        snprintf(why, wn, "%llu of %llu bytes of private read/write memory captured",
                 (unsigned long long)prw_have, (unsigned long long)prw);
        return;
    }
    d->kind = DS_KIND_MINI;
    if (m->has_meminfo)
        snprintf(why, wn, "%llu of %llu committed readable bytes captured; no full-memory flags",
                 (unsigned long long)have, (unsigned long long)need);
    else
        snprintf(why, wn, "no Memory64List and no full-memory or heap flags (flags 0x%llx)",
                 (unsigned long long)f);
}

/* ---- driver ------------------------------------------------------------------------------- */

bool ds_minidump_probe(const uint8_t *p, uint64_t n)
{
    return p && n >= 4 && ds_le32(p) == MD_SIGNATURE;
}

static ds_cursor stream_cur(md *m, size_t i)
{
    const ds_stream *s = &m->d->streams[i];
    return ds_cur_sub(&m->file, s->offset, s->size);
}

typedef bool (*parse_fn)(md *, ds_cursor);

/* Runs `fn` on the first intact stream of `type`; later ones are noted and skipped. Returns the
 * index of the stream parsed, or -1. */
static long run_first(md *m, uint32_t type, parse_fn fn)
{
    ds_dump *d = m->d;
    long first = -1;
    char sb[48];
    for (size_t i = 0; i < d->nstreams; i++) {
        ds_stream *s = &d->streams[i];
        if (s->type != type)
            continue;
        if (first >= 0) {
            note(m, sname(sb, sizeof sb, "MINIDUMP_DIRECTORY", i), m->d->streams[i].offset,
                 "duplicate %s ignored (the first is at index %ld)", s->name, first);
            continue;
        }
        first = (long)i;
        bool ok = fn(m, stream_cur(m, i));
        if (ok && !s->damaged)
            s->parsed = true;
        else {
            s->parsed = ok;
            s->damaged = true;
        }
    }
    return first;
}

static bool p_thread_list(md *m, ds_cursor c)
{
    return parse_thread_list(m, c, false);
}
static bool p_thread_ex_list(md *m, ds_cursor c)
{
    return parse_thread_list(m, c, true);
}
static bool p_comment_a(md *m, ds_cursor c)
{
    return parse_comment(m, c, false);
}
static bool p_comment_w(md *m, ds_cursor c)
{
    return parse_comment(m, c, true);
}
static bool p_maps_regions(md *m, ds_cursor c)
{
    return parse_linux_maps(m, c, !m->has_meminfo);
}
static bool p_recognised(md *m, ds_cursor c)
{
    (void)m;
    (void)c;
    return true;
}

static bool read_directory(md *m)
{
    ds_dump *d = m->d;
    ds_cursor h = ds_cur_sub(&m->file, 0, MD_HEADER_SIZE);
    uint32_t sig = ds_cur_u32(&h);
    uint32_t version = ds_cur_u32(&h);
    uint32_t nstreams = ds_cur_u32(&h);
    uint32_t dir_rva = ds_cur_u32(&h);
    ds_cur_u32(&h); /* CheckSum */
    d->dump_time = ds_cur_u32(&h);
    d->dump_flags = ds_cur_u64(&h);
    if (h.bad) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "MINIDUMP_HEADER", 1, 0,
                    "file of %llu bytes is shorter than the 32-byte header",
                    (unsigned long long)m->n);
        return false;
    }
    if (sig != MD_SIGNATURE || (version & 0xffff) != MD_VERSION) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "MINIDUMP_HEADER", 1, 0,
                    "bad signature 0x%08x or version 0x%08x (low word must be 0xa793)", sig,
                    version);
        return false;
    }
    if (!nstreams) {
        warn(m, "MINIDUMP_HEADER", 8, "NumberOfStreams is 0: the dump has no streams");
        return true;
    }
    if (dir_rva < MD_HEADER_SIZE)
        warn(m, "MINIDUMP_HEADER", 12, "StreamDirectoryRva 0x%x overlaps the header", dir_rva);
    if (!in_file(m, dir_rva, MD_DIRENT_SIZE)) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "MINIDUMP_HEADER", 1, 12,
                    "StreamDirectoryRva 0x%x: the stream directory (%u entries) is outside the "
                    "file (size 0x%llx)",
                    dir_rva, nstreams, (unsigned long long)m->n);
        return false;
    }
    uint64_t fit = (m->n - dir_rva) / MD_DIRENT_SIZE;
    uint64_t n = nstreams;
    if (n > fit) {
        warn(m, "MINIDUMP_DIRECTORY", dir_rva,
             "NumberOfStreams %u but only %llu directory entries fit in the file", nstreams,
             (unsigned long long)fit);
        n = fit;
    }
    d->streams = calloc((size_t)n, sizeof *d->streams);
    if (!d->streams) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "MINIDUMP_DIRECTORY", 1, dir_rva,
                    "out of memory for %llu directory entries", (unsigned long long)n);
        return false;
    }
    ds_cursor dc = ds_cur_sub(&m->file, dir_rva, n * MD_DIRENT_SIZE);
    int told = 0;
    char sb[48];
    for (uint64_t i = 0; i < n; i++) {
        ds_stream *s = &d->streams[d->nstreams++];
        uint64_t eoff = ds_cur_off(&dc);
        s->type = ds_cur_u32(&dc);
        s->size = ds_cur_u32(&dc);
        s->offset = ds_cur_u32(&dc);
        s->name = stream_name_of(s->type);
        if (s->type == ST_UNUSED)
            continue;
        if (!in_file(m, s->offset, s->size)) {
            s->damaged = true;
            uint64_t keep = s->offset < m->n ? m->n - s->offset : 0;
            if (told++ < MD_MAX_DIAGS_PER_STREAM)
                warn(m, sname(sb, sizeof sb, "MINIDUMP_DIRECTORY", i), eoff,
                     "%s (type 0x%x): %llu bytes at RVA 0x%llx run past the end of the file "
                     "(0x%llx): %s",
                     s->name, s->type, (unsigned long long)s->size, (unsigned long long)s->offset,
                     (unsigned long long)m->n, keep ? "clipped" : "skipped");
            s->size = keep;
            if (!keep)
                s->offset = m->n;
        }
    }
    if (told > MD_MAX_DIAGS_PER_STREAM)
        warn(m, "MINIDUMP_DIRECTORY", dir_rva, "%d directory entries are damaged in all", told);
    return true;
}

static bool has_stream(const ds_dump *d, uint32_t type)
{
    for (size_t i = 0; i < d->nstreams; i++)
        if (d->streams[i].type == type)
            return true;
    return false;
}

ds_status ds_minidump_read(ds_dump *d)
{
    md m;
    memset(&m, 0, sizeof m);
    m.d = d;
    m.p = d->map;
    m.n = d->map ? d->map_size : 0;
    m.file = ds_cur(m.p, m.n, 0);
    m.budget = MD_STRING_BUDGET + m.n;
    d->format = DS_FMT_MINIDUMP;
    d->format_name = "Windows minidump";
    if (!read_directory(&m))
        return DS_E_FORMAT;

    /* System info first: it decides the pointer size and context layouts. */
    long si = run_first(&m, ST_SYSTEM_INFO, parse_system_info);
    if (si < 0)
        warn(&m, "MINIDUMP_DIRECTORY", 0, "no SystemInfoStream: architecture unknown");
    if (!d->sys.ptr_size) { /* absent or damaged: contexts cannot be decoded */
        d->sys.ptr_size = 8;
        d->sys.target_ptr_size = 8;
    }
    ds_vmem_init(&d->vm, d->map, d->map_size, d->sys.ptr_size);

    /* Everything that adds memory ranges, then the region table. */
    run_first(&m, ST_MEMORY_LIST, parse_memory_list);
    run_first(&m, ST_MEMORY64_LIST, parse_memory64_list);
    run_first(&m, ST_MEMORY_INFO_LIST, parse_memory_info_list);
    long tl = run_first(&m, ST_THREAD_LIST, p_thread_list);
    if (tl < 0)
        run_first(&m, ST_THREAD_EX_LIST, p_thread_ex_list);
    else
        for (size_t i = 0; i < d->nstreams; i++)
            if (d->streams[i].type == ST_THREAD_EX_LIST)
                note(&m, "MINIDUMP_DIRECTORY", d->streams[i].offset,
                     "ThreadExListStream ignored: ThreadListStream present");
    run_first(&m, ST_BP_LINUX_MAPS, p_maps_regions);
    for (size_t i = 0; i < d->nregions; i++) {
        const ds_region *r = &d->regions[i];
        if (r->state == DS_MEM_COMMIT)
            ds_vmem_add(&d->vm, r->base, r->size, DS_RANGE_NOT_CAPTURED, 0, (uint32_t)i);
    }
    uint64_t dropped = ds_vmem_finish(&d->vm);
    (void)dropped; /* overlapping memory descriptors are normal (stacks listed twice) */
    d->vm.has_map_info = d->has_region_table;
    compute_captured(d);

    /* The rest. */
    run_first(&m, ST_MODULE_LIST, parse_module_list);
    run_first(&m, ST_UNLOADED_MODULE_LIST, parse_unloaded_module_list);
    long ex = run_first(&m, ST_EXCEPTION, parse_exception);
    if (ex >= 0)
        exception_context(&m, stream_cur(&m, (size_t)ex));
    run_first(&m, ST_MISC_INFO, parse_misc_info);
    run_first(&m, ST_THREAD_INFO_LIST, parse_thread_info_list);
    run_first(&m, ST_THREAD_NAMES, parse_thread_names);
    run_first(&m, ST_HANDLE_DATA, parse_handle_data);
    run_first(&m, ST_COMMENT_A, p_comment_a);
    run_first(&m, ST_COMMENT_W, p_comment_w);
    run_first(&m, ST_SYSTEM_MEMORY_INFO, parse_system_memory_info);
    run_first(&m, ST_PROCESS_VM_COUNTERS, parse_vm_counters);
    run_first(&m, ST_BP_INFO, parse_breakpad_info);
    run_first(&m, ST_BP_LINUX_PROC_STATUS, parse_proc_status);
    run_first(&m, ST_BP_LINUX_LSB_RELEASE, parse_lsb_release);
    run_first(&m, ST_BP_LINUX_CMD_LINE, parse_cmdline);
    run_first(&m, ST_BP_LINUX_AUXV, parse_auxv);
    run_first(&m, ST_BP_ASSERTION, p_recognised);
    run_first(&m, ST_BP_LINUX_CPU_INFO, p_recognised);
    run_first(&m, ST_BP_LINUX_ENVIRON, p_recognised);
    run_first(&m, ST_BP_LINUX_DSO_DEBUG, p_recognised);
    run_first(&m, ST_CRASHPAD_INFO, parse_crashpad_info);

    if (d->sys.os == DS_OS_WINDOWS)
        windows_teb_pass(&m);

    bool breakpad = false, crashpad = has_stream(d, ST_CRASHPAD_INFO);
    for (size_t i = 0; i < d->nstreams; i++)
        if ((d->streams[i].type & 0xffff0000u) == 0x47670000u)
            breakpad = true;
    snprintf(d->producer, sizeof d->producer, "%s",
             crashpad ? "crashpad" : (breakpad ? "breakpad" : "windows"));
    if (crashpad)
        d->format_name = "minidump (Crashpad)";
    else if (breakpad)
        d->format_name = "minidump (Breakpad)";
    maps_region_types(&m);
    classify(&m);

    return ds_diags_count(&d->diags, DS_SEV_WARNING) ? DS_E_PARTIAL : DS_OK;
}
