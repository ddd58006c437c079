/* User-space ELF core files (ET_CORE, ELF32/ELF64, little-endian): kernel cores, gdb gcore,
 * .NET createdump. Our own reader over the mmap'ed file; every file byte is read through a
 * bounds-checked cursor.
 *
 * Memory view (one range set per PT_LOAD):
 *   - [p_vaddr, p_vaddr + min(p_filesz, p_memsz)) is DATA at p_offset (bytes past EOF are clipped
 *     by the view to NOT_CAPTURED, with a warning here);
 *   - the rest of p_memsz is NOT_CAPTURED, never ZERO. In a core a short p_filesz does not mean
 *     "zero-filled .bss" as it does in an executable: the kernel writes p_filesz = one page for a
 *     file mapping whose ELF header it keeps (coredump_filter bit 4) and p_filesz = 0 for mappings
 *     it skips; createdump writes p_filesz = 0 for ranges it did not capture; gdb drops the
 *     segment or writes it whole. In all these cases the missing bytes are unknown, not zero.
 *
 * Notes: every note becomes a ds_stream whose offset/size are those of the note's descriptor
 * (the payload), so a consumer can read the raw bytes directly.
 *
 * NT_FILE page-size conventions (d->lnx.nt_file_convention, offsets normalised to bytes):
 *   page_size == 1                              -> gdb: byte offsets.
 *   page_size  > 1 (kernel and createdump both write the page size, 4096 on x86):
 *     - some non-zero offset is not a multiple of page_size -> kernel: offsets are page numbers
 *       (an mmap file offset in bytes is always page-aligned, so a byte offset cannot be
 *       unaligned; page numbers almost always are);
 *     - every offset is a multiple of page_size and at least one is non-zero -> createdump: byte
 *       offsets (as page numbers, every one of them would have to be a multiple of 4096 pages,
 *       i.e. 16 MiB at 4 KiB pages, which real mappings practically never are);
 *     - a page-number interpretation overflows 64 bits -> createdump (bytes);
 *     - all offsets zero -> ambiguous; the conversion is irrelevant (0 either way): kernel,
 *       unless the core lacks NT_SIGINFO, which the kernel always writes (since 3.7) and
 *       createdump does not -> createdump.
 *
 * Producer (d->producer): "gdb" when NT_FILE page_size is 1 or an NT_GDB_TDESC note is present;
 * "createdump" for the createdump NT_FILE convention; "kernel" for the kernel convention or when
 * NT_SIGINFO is present; "unknown" otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"
#include "base/util.h"
#include "dumpsleuth/dump.h"

#define ET_CORE 4
#define PT_LOAD 1
#define PT_NOTE 4
#define PN_XNUM 0xffffu
#define PF_X 1u
#define PF_R 4u
#define PF_W 2u

#define EM_386 3
#define EM_MIPS 8
#define EM_PPC 20
#define EM_PPC64 21
#define EM_S390 22
#define EM_ARM 40
#define EM_X86_64 62
#define EM_AARCH64 183
#define EM_RISCV 243

#define NT_PRSTATUS 1
#define NT_FPREGSET 2
#define NT_PRPSINFO 3
#define NT_TASKSTRUCT 4
#define NT_AUXV 6
#define NT_SIGINFO 0x53494749u
#define NT_FILE 0x46494c45u
#define NT_PRXFPREG 0x46e62b7fu
#define NT_GNU_BUILD_ID 3
#define NT_GDB_TDESC 0x3ffu

#define AT_NULL 0
#define AT_PLATFORM 15
#define AT_SYSINFO_EHDR 33

#define PAGE_NOACCESS 0x01u
#define PAGE_READONLY 0x02u
#define PAGE_READWRITE 0x04u
#define PAGE_EXECUTE 0x10u
#define PAGE_EXECUTE_READ 0x20u
#define PAGE_EXECUTE_READWRITE 0x40u

/* Hard limits against hostile files (each reported when hit). */
#define MAX_NOTES (1u << 20)
#define MAX_THREADS (1u << 16)
#define MAX_MODULE_PHDRS 512u

enum { CONV_NONE = 0, CONV_KERNEL = 1, CONV_GDB = 2, CONV_CREATEDUMP = 3 };

typedef struct seg {
    uint64_t vaddr, memsz, offset, filesz, paddr;
    uint32_t flags;
    uint32_t index; /* program header index */
} seg;

typedef struct rdr {
    ds_dump *d;
    ds_cursor file;
    bool is64;
    unsigned ps; /* pointer size */
    uint16_t machine;
    seg *segs;
    size_t nsegs, csegs;
    bool damaged;
    bool have_siginfo, have_gdb_tdesc;
    uint32_t last_tid;
    bool have_last_tid;
    size_t nnotes;
    size_t cap_streams, cap_threads, cap_modules, cap_files, cap_auxv;
    uint64_t platform_ptr, vdso_base;
    bool have_platform, have_vdso;
} rdr;

/* ------------------------------------------------------------------ names */

static const char *note_name(const char *owner, uint32_t type)
{
    if (!strcmp(owner, "CORE")) {
        switch (type) {
        case NT_PRSTATUS:
            return "NT_PRSTATUS";
        case NT_FPREGSET:
            return "NT_FPREGSET";
        case NT_PRPSINFO:
            return "NT_PRPSINFO";
        case NT_TASKSTRUCT:
            return "NT_TASKSTRUCT";
        case NT_AUXV:
            return "NT_AUXV";
        case NT_SIGINFO:
            return "NT_SIGINFO";
        case NT_FILE:
            return "NT_FILE";
        case NT_PRXFPREG:
            return "NT_PRXFPREG";
        case 10:
            return "NT_PSTATUS";
        case 13:
            return "NT_PSINFO";
        }
    } else if (!strcmp(owner, "LINUX")) {
        switch (type) {
        case NT_PRXFPREG:
            return "NT_PRXFPREG";
        case 0x200:
            return "NT_386_TLS";
        case 0x201:
            return "NT_386_IOPERM";
        case 0x202:
            return "NT_X86_XSTATE";
        case 0x204:
            return "NT_X86_SHSTK";
        case 0x205:
            return "NT_X86_XSAVE_LAYOUT";
        case 0x400:
            return "NT_ARM_VFP";
        case 0x401:
            return "NT_ARM_TLS";
        case 0x402:
            return "NT_ARM_HW_BREAK";
        case 0x403:
            return "NT_ARM_HW_WATCH";
        case 0x404:
            return "NT_ARM_SYSTEM_CALL";
        case 0x405:
            return "NT_ARM_SVE";
        case 0x406:
            return "NT_ARM_PAC_MASK";
        case 0x409:
            return "NT_ARM_TAGGED_ADDR_CTRL";
        case 0x40a:
            return "NT_ARM_PAC_ENABLED_KEYS";
        case 0x100:
            return "NT_PPC_VMX";
        case 0x102:
            return "NT_PPC_VSX";
        case 0x300:
            return "NT_S390_HIGH_GPRS";
        case 0x900:
            return "NT_RISCV_CSR";
        }
    } else if (!strcmp(owner, "GDB")) {
        if (type == NT_GDB_TDESC)
            return "NT_GDB_TDESC";
    } else if (!strcmp(owner, "GNU")) {
        if (type == NT_GNU_BUILD_ID)
            return "NT_GNU_BUILD_ID";
    } else if (!strcmp(owner, "VMCOREINFO")) {
        return "VMCOREINFO";
    }
    return "unknown";
}

static const char *signal_name(uint32_t sig)
{
    static const char *n[] = {
        NULL,        "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
    if (sig < sizeof n / sizeof n[0] && n[sig])
        return n[sig];
    return sig ? "SIGRT" : "none";
}

static ds_arch arch_of(uint16_t m, bool is64)
{
    switch (m) {
    case EM_386:
        return DS_ARCH_X86;
    case EM_X86_64:
        return DS_ARCH_AMD64;
    case EM_ARM:
        return DS_ARCH_ARM;
    case EM_AARCH64:
        return DS_ARCH_ARM64;
    case EM_PPC:
        return DS_ARCH_PPC;
    case EM_PPC64:
        return DS_ARCH_PPC64;
    case EM_MIPS:
        return DS_ARCH_MIPS;
    case EM_S390:
        return is64 ? DS_ARCH_S390X : DS_ARCH_OTHER;
    case EM_RISCV:
        return is64 ? DS_ARCH_RISCV64 : DS_ARCH_OTHER;
    }
    return DS_ARCH_OTHER;
}

static uint32_t protect_of(uint32_t perm)
{
    bool r = perm & PF_R, w = perm & PF_W, x = perm & PF_X;
    if (x)
        return w ? PAGE_EXECUTE_READWRITE : (r ? PAGE_EXECUTE_READ : PAGE_EXECUTE);
    if (w)
        return PAGE_READWRITE;
    return r ? PAGE_READONLY : PAGE_NOACCESS;
}

/* ------------------------------------------------------------------ header */

typedef struct ehdr {
    bool is64;
    uint16_t type, machine;
    uint64_t phoff, shoff;
    uint16_t phentsize, shentsize;
    uint32_t phnum; /* after PN_XNUM */
    bool xnum;
} ehdr;

/* Parses the ELF identification and header. Returns false (with a message in *why) when this is
 * not a little-endian ELF core we can read. */
static bool parse_ehdr(const uint8_t *p, uint64_t n, ehdr *h, const char **why)
{
    ds_cursor c = ds_cur(p, n, 0);
    const uint8_t *id = ds_cur_bytes(&c, 16);
    *why = "file too small for an ELF header";
    if (!id)
        return false;
    *why = "not an ELF file";
    if (memcmp(id,
               "\x7f"
               "ELF",
               4) != 0)
        return false;
    *why = "unknown ELF class";
    if (id[4] != 1 && id[4] != 2)
        return false;
    h->is64 = id[4] == 2;
    *why = "big-endian ELF cores are not supported";
    if (id[5] != 1)
        return false;
    h->type = ds_cur_u16(&c);
    h->machine = ds_cur_u16(&c);
    ds_cur_u32(&c); /* e_version */
    unsigned ps = h->is64 ? 8 : 4;
    ds_cur_ptr(&c, ps); /* e_entry */
    h->phoff = ds_cur_ptr(&c, ps);
    h->shoff = ds_cur_ptr(&c, ps);
    ds_cur_u32(&c); /* e_flags */
    ds_cur_u16(&c); /* e_ehsize */
    h->phentsize = ds_cur_u16(&c);
    h->phnum = ds_cur_u16(&c);
    h->shentsize = ds_cur_u16(&c);
    ds_cur_u16(&c); /* e_shnum */
    ds_cur_u16(&c); /* e_shstrndx */
    *why = "truncated ELF header";
    if (c.bad)
        return false;
    *why = "not an ET_CORE file";
    if (h->type != ET_CORE)
        return false;
    h->xnum = false;
    if (h->phnum == PN_XNUM) {
        /* The real count is in sh_info of section header 0. */
        h->xnum = true;
        h->phnum = 0;
        uint64_t info_off = h->is64 ? 44 : 28;
        ds_cursor s = ds_cur(p, n, 0);
        if (h->shoff && ds_cur_seek(&s, h->shoff) && ds_cur_skip(&s, info_off))
            h->phnum = ds_cur_u32(&s);
        *why = "PN_XNUM: section header 0 (holding the program header count) is unreadable";
        if (s.bad || !h->shoff)
            return false;
    }
    return true;
}

bool ds_elfcore_probe(const uint8_t *p, uint64_t n)
{
    ehdr h;
    const char *why;
    if (parse_ehdr(p, n, &h, &why))
        return true;
    /* Claim big-endian ELF cores too, so the user gets "unsupported" instead of "unknown". */
    return n >= 18 &&
           !memcmp(p,
                   "\x7f"
                   "ELF",
                   4) &&
           p[5] == 2 && p[16] == 0 && p[17] == ET_CORE;
}

/* ------------------------------------------------------------------ notes */

static bool owner_is(const uint8_t *name, uint32_t namesz, const char *want)
{
    size_t w = strlen(want);
    if (namesz == w + 1)
        return !memcmp(name, want, w) && name[w] == 0;
    return namesz == w && !memcmp(name, want, w);
}

static void add_stream(rdr *r, uint32_t type, uint64_t off, uint64_t size, const char *name,
                       bool parsed, bool damaged)
{
    ds_stream s = {type, off, size, name, parsed, damaged};
    if (!DS_PUSH(r->d->streams, r->d->nstreams, r->cap_streams, s))
        r->damaged = true;
}

static void warn(rdr *r, const char *structure, uint64_t off, const char *msg)
{
    ds_diag_add(&r->d->diags, DS_SEV_WARNING, structure, 1, off, "%s", msg);
    r->damaged = true;
}

/* Register layout of the prstatus gregset: size in bytes and word indexes of pc/sp/fp (-1 none). */
typedef struct regs_layout {
    uint32_t size;
    unsigned word;
    int pc, sp, fp;
} regs_layout;

static bool layout_of(uint16_t machine, regs_layout *l)
{
    switch (machine) {
    case EM_X86_64: /* r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs
                       eflags rsp ss fs_base gs_base ds es fs gs */
        *l = (regs_layout){27 * 8, 8, 16, 19, 4};
        return true;
    case EM_386: /* ebx ecx edx esi edi ebp eax ds es fs gs orig_eax eip cs eflags esp ss */
        *l = (regs_layout){17 * 4, 4, 12, 15, 5};
        return true;
    case EM_AARCH64: /* x0..x30 sp pc pstate */
        *l = (regs_layout){34 * 8, 8, 32, 31, 29};
        return true;
    case EM_ARM: /* r0..r15 cpsr orig_r0 */
        *l = (regs_layout){18 * 4, 4, 15, 13, 11};
        return true;
    }
    return false;
}

static void note_prstatus(rdr *r, ds_cursor c, uint32_t sidx)
{
    ds_dump *d = r->d;
    unsigned ps = r->ps;
    uint64_t reg_off = r->is64 ? 112 : 72; /* after pr_info, pr_cursig, sigpend/hold, ids, times */
    ds_thread t;
    memset(&t, 0, sizeof t);
    ds_cur_skip(&c, 12); /* pr_info: si_signo, si_code, si_errno */
    t.signal = (int16_t)ds_cur_u16(&c);
    ds_cur_seek(&c, 16 + 2 * (uint64_t)ps);
    t.tid = ds_cur_u32(&c);
    t.ppid = ds_cur_u32(&c);
    t.pgrp = ds_cur_u32(&c);
    t.sid = ds_cur_u32(&c);
    if (c.bad) {
        ds_diag_add(&d->diags, DS_SEV_WARNING, "NT_PRSTATUS", 1, c.base_off,
                    "descriptor of %llu bytes is too short for prstatus: thread skipped",
                    (unsigned long long)c.len);
        d->streams[sidx].damaged = true;
        r->damaged = true;
        return;
    }
    if (d->nthreads >= MAX_THREADS) {
        if (d->nthreads == MAX_THREADS)
            warn(r, "NT_PRSTATUS", c.base_off, "too many threads: the rest are ignored");
        return;
    }
    regs_layout l;
    if (layout_of(r->machine, &l)) {
        ds_cursor g = ds_cur_sub(&c, reg_off, l.size);
        if (!g.bad) {
            t.has_context = true;
            t.context = g.p;
            t.context_size = l.size;
            ds_cursor w = g;
            ds_cur_seek(&w, (uint64_t)l.pc * l.word);
            t.pc = ds_cur_ptr(&w, l.word);
            ds_cur_seek(&w, (uint64_t)l.sp * l.word);
            t.sp = ds_cur_ptr(&w, l.word);
            ds_cur_seek(&w, (uint64_t)l.fp * l.word);
            t.fp = ds_cur_ptr(&w, l.word);
        } else {
            ds_diag_add(&d->diags, DS_SEV_WARNING, "NT_PRSTATUS", 1, c.base_off,
                        "thread %u: descriptor of %llu bytes is too short for the %u-byte "
                        "register set: no registers",
                        t.tid, (unsigned long long)c.len, l.size);
            d->streams[sidx].damaged = true;
            r->damaged = true;
        }
    } else if (c.len > reg_off + 4) {
        /* Unknown architecture: the raw gregset (everything up to pr_fpvalid), no pc/sp. */
        uint64_t n = c.len - reg_off - 4;
        ds_cursor g = ds_cur_sub(&c, reg_off, n);
        if (!g.bad && n <= UINT32_MAX) {
            t.has_context = true;
            t.context = g.p;
            t.context_size = (uint32_t)n;
        }
    }
    if (DS_PUSH(d->threads, d->nthreads, r->cap_threads, t)) {
        d->streams[sidx].parsed = true;
        r->last_tid = t.tid;
        r->have_last_tid = true;
    } else {
        r->damaged = true;
    }
}

static void note_prpsinfo(rdr *r, ds_cursor c, uint32_t sidx)
{
    ds_linux_info *l = &r->d->lnx;
    if (l->has_prpsinfo) {
        ds_diag_add(&r->d->diags, DS_SEV_NOTE, "NT_PRPSINFO", 1, c.base_off,
                    "second NT_PRPSINFO ignored");
        return;
    }
    uint8_t sname;
    uint32_t uid, gid, pid, ppid;
    const uint8_t *fname, *psargs;
    ds_cur_u8(&c); /* pr_state */
    sname = ds_cur_u8(&c);
    if (r->is64) { /* x86_64, aarch64, ...: flag is a long, uid/gid 32-bit */
        ds_cur_seek(&c, 16);
        uid = ds_cur_u32(&c);
        gid = ds_cur_u32(&c);
    } else if (c.len >= 128) { /* 32-bit with 32-bit uid/gid */
        ds_cur_seek(&c, 8);
        uid = ds_cur_u32(&c);
        gid = ds_cur_u32(&c);
    } else { /* i386, arm: 16-bit __kernel_uid_t */
        ds_cur_seek(&c, 8);
        uid = ds_cur_u16(&c);
        gid = ds_cur_u16(&c);
    }
    pid = ds_cur_u32(&c);
    ppid = ds_cur_u32(&c);
    ds_cur_skip(&c, 8); /* pgrp, sid */
    fname = ds_cur_bytes(&c, 16);
    psargs = ds_cur_bytes(&c, 80);
    if (c.bad) {
        ds_diag_add(&r->d->diags, DS_SEV_WARNING, "NT_PRPSINFO", 1, c.base_off,
                    "descriptor of %llu bytes is too short for prpsinfo: ignored",
                    (unsigned long long)c.len);
        r->d->streams[sidx].damaged = true;
        r->damaged = true;
        return;
    }
    l->has_prpsinfo = true;
    l->state = (char)((sname >= 0x20 && sname < 0x7f) ? sname : '?');
    l->uid = uid;
    l->gid = gid;
    l->pid = pid;
    l->ppid = ppid;
    ds_copy_clean(l->fname, sizeof l->fname, fname, 16);
    ds_copy_clean(l->psargs, sizeof l->psargs, psargs, 80);
    for (size_t k = strlen(l->psargs); k > 0 && l->psargs[k - 1] == ' '; k--)
        l->psargs[k - 1] = 0; /* the kernel pads the argument string with spaces */
    r->d->misc.has_pid = true;
    r->d->misc.pid = pid;
    r->d->streams[sidx].parsed = true;
}

static void note_auxv(rdr *r, ds_cursor c, uint32_t sidx)
{
    ds_linux_info *l = &r->d->lnx;
    if (l->auxv) {
        ds_diag_add(&r->d->diags, DS_SEV_NOTE, "NT_AUXV", 1, c.base_off, "second NT_AUXV ignored");
        return;
    }
    uint64_t max = c.len / (2 * (uint64_t)r->ps);
    bool terminated = false;
    for (uint64_t i = 0; i < max; i++) {
        ds_auxv a;
        a.type = ds_cur_ptr(&c, r->ps);
        a.value = ds_cur_ptr(&c, r->ps);
        if (c.bad)
            break;
        if (a.type == AT_NULL) {
            terminated = true;
            break;
        }
        if (!DS_PUSH(l->auxv, l->nauxv, r->cap_auxv, a)) {
            r->damaged = true;
            break;
        }
        if (a.type == AT_PLATFORM) {
            r->platform_ptr = a.value;
            r->have_platform = true;
        } else if (a.type == AT_SYSINFO_EHDR) {
            r->vdso_base = a.value;
            r->have_vdso = true;
        }
    }
    if (!terminated)
        ds_diag_add(&r->d->diags, DS_SEV_NOTE, "NT_AUXV", 1, c.base_off,
                    "auxiliary vector has no AT_NULL terminator (%zu entries kept)", l->nauxv);
    r->d->streams[sidx].parsed = true;
}

static void note_siginfo(rdr *r, ds_cursor c, uint32_t sidx)
{
    r->have_siginfo = true;
    ds_exception *e = &r->d->exc;
    if (e->present) {
        r->d->streams[sidx].parsed = true; /* gdb writes one per thread: the first one wins */
        return;
    }
    uint32_t signo = ds_cur_u32(&c);
    int32_t err = (int32_t)ds_cur_u32(&c);
    int32_t code = (int32_t)ds_cur_u32(&c);
    if (c.bad) {
        ds_diag_add(&r->d->diags, DS_SEV_WARNING, "NT_SIGINFO", 1, c.base_off,
                    "descriptor of %llu bytes is too short for siginfo: ignored",
                    (unsigned long long)c.len);
        r->d->streams[sidx].damaged = true;
        r->damaged = true;
        return;
    }
    uint64_t addr = 0;
    bool fault = signo == 4 || signo == 5 || signo == 7 || signo == 8 || signo == 11;
    if (fault && code > 0) { /* fault_addr is the first union member, pointer-aligned */
        ds_cur_seek(&c, r->is64 ? 16 : 12);
        addr = ds_cur_ptr(&c, r->ps);
        if (c.bad)
            addr = 0;
    }
    e->present = true;
    e->code = signo;
    e->name = signal_name(signo);
    e->si_code = code;
    e->si_errno = err;
    e->fault_addr = addr;
    if (r->have_last_tid)
        e->tid = r->last_tid;
    r->d->streams[sidx].parsed = true;
}

static void note_file(rdr *r, ds_cursor c, uint32_t sidx)
{
    ds_linux_info *l = &r->d->lnx;
    if (l->files || l->nt_file_page_size) {
        ds_diag_add(&r->d->diags, DS_SEV_NOTE, "NT_FILE", 1, c.base_off, "second NT_FILE ignored");
        return;
    }
    unsigned ps = r->ps;
    uint64_t count = ds_cur_ptr(&c, ps);
    uint64_t page = ds_cur_ptr(&c, ps);
    if (c.bad) {
        warn(r, "NT_FILE", c.base_off, "descriptor too short for the NT_FILE header: ignored");
        r->d->streams[sidx].damaged = true;
        return;
    }
    l->nt_file_page_size = page ? page : 1;
    uint64_t room = ds_cur_left(&c) / (3 * (uint64_t)ps);
    if (count > room) {
        ds_diag_add(&r->d->diags, DS_SEV_WARNING, "NT_FILE", 1, c.base_off,
                    "count %llu does not fit in the descriptor (room for %llu): truncated",
                    (unsigned long long)count, (unsigned long long)room);
        r->d->streams[sidx].damaged = true;
        r->damaged = true;
        count = room;
    }
    if (page == 0) {
        ds_diag_add(&r->d->diags, DS_SEV_WARNING, "NT_FILE", 1, c.base_off,
                    "page_size 0: offsets taken as bytes");
        r->damaged = true;
    }
    ds_cursor names = ds_cur_sub(&c, 2 * (uint64_t)ps + count * 3 * ps,
                                 c.len - (2 * (uint64_t)ps + count * 3 * ps));
    bool names_short = false;
    for (uint64_t i = 0; i < count; i++) {
        ds_file_map f;
        f.start = ds_cur_ptr(&c, ps);
        f.end = ds_cur_ptr(&c, ps);
        f.file_offset = ds_cur_ptr(&c, ps); /* as written; normalised later */
        const uint8_t *s = names.p + names.pos;
        uint64_t left = ds_cur_left(&names);
        const uint8_t *z = left ? memchr(s, 0, (size_t)left) : NULL;
        if (z) {
            f.path = ds_strndup((const char *)s, (size_t)(z - s));
            ds_cur_skip(&names, (uint64_t)(z - s) + 1);
        } else {
            names_short = true;
            f.path = ds_strdup("");
            ds_cur_seek(&names, names.len);
        }
        if (!f.path) {
            r->damaged = true;
            break;
        }
        if (f.end <= f.start) {
            ds_diag_add(&r->d->diags, DS_SEV_WARNING, "NT_FILE", 1,
                        c.base_off + 2 * (uint64_t)ps + i * 3 * ps,
                        "entry %llu: end 0x%llx <= start 0x%llx: skipped", (unsigned long long)i,
                        (unsigned long long)f.end, (unsigned long long)f.start);
            r->damaged = true;
            free(f.path);
            continue;
        }
        if (!DS_PUSH(l->files, l->nfiles, r->cap_files, f)) {
            free(f.path);
            r->damaged = true;
            break;
        }
    }
    if (names_short) {
        warn(r, "NT_FILE", names.base_off, "file name table is truncated: some paths are empty");
        r->d->streams[sidx].damaged = true;
    }
    r->d->streams[sidx].parsed = true;
}

/* Decides the NT_FILE convention (see the comment at the top) and normalises offsets to bytes. */
static void normalise_files(rdr *r)
{
    ds_linux_info *l = &r->d->lnx;
    if (!l->nt_file_page_size)
        return;
    uint64_t page = l->nt_file_page_size;
    if (page == 1) {
        l->nt_file_convention = CONV_GDB;
        return;
    }
    size_t unaligned = 0, aligned_nonzero = 0, overflow = 0;
    for (size_t i = 0; i < l->nfiles; i++) {
        uint64_t o = l->files[i].file_offset;
        if (!o)
            continue;
        if (o % page)
            unaligned++;
        else
            aligned_nonzero++;
        if (o > UINT64_MAX / page)
            overflow++;
    }
    int conv;
    if (unaligned && !overflow)
        conv = CONV_KERNEL;
    else if (aligned_nonzero || overflow)
        conv = CONV_CREATEDUMP;
    else
        conv = r->have_siginfo ? CONV_KERNEL : CONV_CREATEDUMP;
    if (unaligned && overflow)
        ds_diag_add(&r->d->diags, DS_SEV_WARNING, "NT_FILE", 0, 0,
                    "offsets fit neither convention (%zu unaligned, %zu too large for page "
                    "numbers): taken as bytes",
                    unaligned, overflow);
    l->nt_file_convention = conv;
    if (conv == CONV_KERNEL)
        for (size_t i = 0; i < l->nfiles; i++)
            l->files[i].file_offset *= page;
}

/* Walks the notes of one PT_NOTE segment (4-byte aligned, as Linux writes them in cores). */
static void walk_notes(rdr *r, ds_cursor sc, uint32_t phidx)
{
    char sname[32];
    snprintf(sname, sizeof sname, "PT_NOTE[%u]", phidx);
    while (ds_cur_left(&sc) >= 12) {
        uint64_t note_off = ds_cur_off(&sc);
        uint32_t namesz = ds_cur_u32(&sc);
        uint32_t descsz = ds_cur_u32(&sc);
        uint32_t type = ds_cur_u32(&sc);
        uint64_t name_pad = ((uint64_t)namesz + 3) & ~(uint64_t)3;
        uint64_t desc_pad = ((uint64_t)descsz + 3) & ~(uint64_t)3;
        const uint8_t *name = ds_cur_bytes(&sc, name_pad);
        if (!name) {
            ds_diag_add(&r->d->diags, DS_SEV_WARNING, sname, 1, note_off,
                        "note name size %u runs past the end of the segment: rest of the "
                        "segment skipped",
                        namesz);
            r->damaged = true;
            return;
        }
        uint64_t desc_pos = sc.pos;
        if (!ds_cur_has(&sc, descsz)) {
            ds_diag_add(&r->d->diags, DS_SEV_WARNING, sname, 1, note_off,
                        "note type 0x%x: descriptor size %u runs past the end of the segment "
                        "(%llu bytes left): rest of the segment skipped",
                        type, descsz, (unsigned long long)ds_cur_left(&sc));
            r->damaged = true;
            return;
        }
        ds_cursor desc = ds_cur_sub(&sc, desc_pos, descsz);
        /* the last note may lack its final padding */
        if (!ds_cur_skip(&sc, desc_pad))
            sc.bad = false;
        if (r->nnotes >= MAX_NOTES) {
            warn(r, sname, note_off, "too many notes: the rest are ignored");
            return;
        }
        r->nnotes++;
        char owner[16];
        ds_copy_clean(owner, sizeof owner, name, namesz);
        const char *nn = note_name(owner, type);
        if (strcmp(nn, "unknown") != 0 && !owner_is(name, namesz, owner))
            nn = "unknown";
        size_t before = r->d->nstreams;
        add_stream(r, type, desc.base_off, descsz, nn, false, false);
        if (r->d->nstreams == before)
            continue;
        uint32_t sidx = (uint32_t)before;
        if (owner_is(name, namesz, "CORE")) {
            switch (type) {
            case NT_PRSTATUS:
                note_prstatus(r, desc, sidx);
                break;
            case NT_PRPSINFO:
                note_prpsinfo(r, desc, sidx);
                break;
            case NT_AUXV:
                note_auxv(r, desc, sidx);
                break;
            case NT_SIGINFO:
                note_siginfo(r, desc, sidx);
                break;
            case NT_FILE:
                note_file(r, desc, sidx);
                break;
            default:
                break;
            }
        } else if (owner_is(name, namesz, "GDB") && type == NT_GDB_TDESC) {
            r->have_gdb_tdesc = true;
            r->d->streams[sidx].parsed = true;
        }
    }
    if (ds_cur_left(&sc))
        ds_diag_add(&r->d->diags, DS_SEV_NOTE, sname, 1, ds_cur_off(&sc),
                    "%llu trailing bytes after the last note ignored",
                    (unsigned long long)ds_cur_left(&sc));
}

/* ------------------------------------------------------------------ modules */

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : (a > b ? 1 : 0);
}

/* qsort_r comparators over indices into a ds_file_map array (the context): no global state, so
 * the library stays usable from several threads */
static int cmp_file_path(const void *a, const void *b, void *ctx)
{
    const ds_file_map *files = ctx;
    const ds_file_map *x = &files[*(const size_t *)a], *y = &files[*(const size_t *)b];
    int c = strcmp(x->path, y->path);
    return c ? c : cmp_u64(x->start, y->start);
}

static int cmp_file_start(const void *a, const void *b, void *ctx)
{
    const ds_file_map *files = ctx;
    const ds_file_map *x = &files[*(const size_t *)a], *y = &files[*(const size_t *)b];
    return cmp_u64(x->start, y->start);
}

static int cmp_module(const void *a, const void *b)
{
    return cmp_u64(((const ds_module *)a)->base, ((const ds_module *)b)->base);
}

static int cmp_region(const void *a, const void *b)
{
    return cmp_u64(((const ds_region *)a)->base, ((const ds_region *)b)->base);
}

static bool is_elf_at(ds_vmem *vm, uint64_t va)
{
    uint8_t m[4];
    return ds_vmem_read(vm, va, m, 4, NULL) == DS_MEM_OK && !memcmp(m,
                                                                    "\x7f"
                                                                    "ELF",
                                                                    4);
}

/* Looks for NT_GNU_BUILD_ID in the notes at [va, va+len) of the process memory. */
static bool build_id_in_notes(ds_vmem *vm, uint64_t va, uint64_t len, ds_codeview *cv)
{
    uint8_t buf[4096];
    size_t got = 0;
    if (len > sizeof buf)
        len = sizeof buf;
    ds_vmem_read(vm, va, buf, (size_t)len, &got);
    ds_cursor c = ds_cur(buf, got, va);
    while (ds_cur_left(&c) >= 12) {
        uint32_t namesz = ds_cur_u32(&c), descsz = ds_cur_u32(&c), type = ds_cur_u32(&c);
        const uint8_t *name = ds_cur_bytes(&c, ((uint64_t)namesz + 3) & ~(uint64_t)3);
        const uint8_t *desc = ds_cur_bytes(&c, descsz);
        if (!name || !desc)
            return false;
        ds_cur_skip(&c, (((uint64_t)descsz + 3) & ~(uint64_t)3) - descsz);
        c.bad = false;
        if (type == NT_GNU_BUILD_ID && owner_is(name, namesz, "GNU") && descsz > 0 &&
            descsz <= sizeof cv->build_id) {
            cv->kind = 3;
            memcpy(cv->build_id, desc, descsz);
            cv->build_id_len = descsz;
            return true;
        }
    }
    return false;
}

/* Reads the build id of the ELF image whose offset-0 mapping starts at start0, from its program
 * headers in memory. */
static void read_build_id(ds_vmem *vm, uint64_t start0, ds_codeview *cv)
{
    uint8_t eh[64];
    if (ds_vmem_read(vm, start0, eh, sizeof eh, NULL) != DS_MEM_OK)
        return;
    ds_cursor c = ds_cur(eh, sizeof eh, start0);
    ds_cur_skip(&c, 4);
    uint8_t cls = ds_cur_u8(&c);
    if ((cls != 1 && cls != 2) || eh[5] != 1)
        return;
    unsigned ps = cls == 2 ? 8 : 4;
    ds_cur_seek(&c, 24 + (uint64_t)ps); /* e_phoff */
    uint64_t phoff = ds_cur_ptr(&c, ps);
    ds_cur_seek(&c, cls == 2 ? 54 : 42);
    uint16_t phentsize = ds_cur_u16(&c), phnum = ds_cur_u16(&c);
    uint16_t need = cls == 2 ? 56 : 32;
    if (c.bad || phentsize < need || phnum == 0 || phoff > 0x100000)
        return;
    if (phnum > MAX_MODULE_PHDRS)
        phnum = MAX_MODULE_PHDRS;
    size_t tlen = (size_t)phnum * phentsize;
    uint8_t *tab = malloc(tlen);
    if (!tab)
        return;
    size_t got = 0;
    ds_vmem_read(vm, start0 + phoff, tab, tlen, &got);
    uint64_t nph = got / phentsize;
    /* load bias: the PT_LOAD with p_offset 0 (else the lowest) maps to start0 */
    uint64_t base_vaddr = UINT64_MAX;
    bool have0 = false;
    for (uint64_t i = 0; i < nph; i++) {
        ds_cursor p = ds_cur(tab + i * phentsize, phentsize, 0);
        uint32_t type = ds_cur_u32(&p);
        uint64_t off, vaddr;
        if (cls == 2) {
            ds_cur_u32(&p);
            off = ds_cur_u64(&p);
            vaddr = ds_cur_u64(&p);
        } else {
            off = ds_cur_u32(&p);
            vaddr = ds_cur_u32(&p);
        }
        if (type != PT_LOAD)
            continue;
        if (off == 0 && !have0) {
            base_vaddr = vaddr;
            have0 = true;
        } else if (!have0 && vaddr < base_vaddr) {
            base_vaddr = vaddr;
        }
    }
    uint64_t bias = base_vaddr == UINT64_MAX ? start0 : start0 - (base_vaddr & ~(uint64_t)0xfff);
    for (uint64_t i = 0; i < nph && !cv->kind; i++) {
        ds_cursor p = ds_cur(tab + i * phentsize, phentsize, 0);
        uint32_t type = ds_cur_u32(&p);
        uint64_t off, vaddr, filesz;
        if (cls == 2) {
            ds_cur_u32(&p);
            off = ds_cur_u64(&p);
            vaddr = ds_cur_u64(&p);
            ds_cur_u64(&p);
            filesz = ds_cur_u64(&p);
        } else {
            off = ds_cur_u32(&p);
            vaddr = ds_cur_u32(&p);
            ds_cur_u32(&p);
            filesz = ds_cur_u32(&p);
        }
        if (type != PT_NOTE || p.bad)
            continue;
        if (!build_id_in_notes(vm, bias + vaddr, filesz, cv) && off < 0x100000)
            build_id_in_notes(vm, start0 + off, filesz, cv); /* note in the first file page */
    }
    free(tab);
}

static bool add_module(rdr *r, uint64_t base, uint64_t size, const char *path, uint64_t start0)
{
    ds_module m;
    memset(&m, 0, sizeof m);
    m.base = base;
    m.size = size;
    m.path = ds_strdup(path);
    if (!m.path)
        return false;
    m.name = ds_basename(m.path);
    read_build_id(&r->d->vm, start0, &m.cv);
    if (!DS_PUSH(r->d->modules, r->d->nmodules, r->cap_modules, m)) {
        free(m.path);
        return false;
    }
    return true;
}

/* Modules: NT_FILE mappings grouped by path; a group is a module when its offset-0 mapping
 * starts with an ELF header in the dump. Marks image files in is_image[]. */
static void build_modules(rdr *r, bool *is_image)
{
    ds_linux_info *l = &r->d->lnx;
    size_t n = l->nfiles;
    size_t *idx = n ? malloc(n * sizeof *idx) : NULL;
    if (n && !idx) {
        r->damaged = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    if (n)
        qsort_r(idx, n, sizeof *idx, cmp_file_path, l->files);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t lo = UINT64_MAX, hi = 0, start0 = 0;
        bool have0 = false;
        while (j < n && !strcmp(l->files[idx[j]].path, l->files[idx[i]].path)) {
            const ds_file_map *f = &l->files[idx[j]];
            lo = f->start < lo ? f->start : lo;
            hi = f->end > hi ? f->end : hi;
            if (f->file_offset == 0 && !have0) {
                start0 = f->start;
                have0 = true;
            }
            j++;
        }
        if (have0 && l->files[idx[i]].path[0] && is_elf_at(&r->d->vm, start0)) {
            for (size_t k = i; k < j; k++)
                is_image[idx[k]] = true;
            if (!add_module(r, lo, hi - lo, l->files[idx[i]].path, start0))
                r->damaged = true;
        }
        i = j;
    }
    free(idx);
    /* the vDSO is not in NT_FILE: AT_SYSINFO_EHDR */
    if (r->have_vdso && is_elf_at(&r->d->vm, r->vdso_base)) {
        const ds_region *g = ds_region_at(r->d, r->vdso_base);
        uint64_t size = g ? g->base + g->size - r->vdso_base : 0x1000;
        if (!add_module(r, r->vdso_base, size, "[vdso]", r->vdso_base))
            r->damaged = true;
    }
    if (r->d->nmodules)
        qsort(r->d->modules, r->d->nmodules, sizeof(ds_module), cmp_module);
}

/* Index of an NT_FILE mapping covering va (sorted[] holds file indexes by start), or -1. */
static int32_t file_at(const ds_linux_info *l, const size_t *sorted, uint64_t va)
{
    size_t lo = 0, hi = l->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->files[sorted[mid]].start <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const ds_file_map *f = &l->files[sorted[lo - 1]];
        if (va >= f->start && va < f->end && sorted[lo - 1] <= INT32_MAX)
            return (int32_t)sorted[lo - 1];
    }
    return -1;
}

/* ------------------------------------------------------------------ reader */

static bool read_phdrs(rdr *r, const ehdr *h)
{
    ds_dump *d = r->d;
    uint16_t need = h->is64 ? 56 : 32;
    if (h->phnum == 0) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "Elf_Ehdr", 1, 0, "no program headers");
        return false;
    }
    if (h->phentsize < need) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "Elf_Ehdr", 1, 0,
                    "e_phentsize %u is smaller than a program header (%u)", h->phentsize, need);
        return false;
    }
    uint64_t avail = h->phoff < r->file.len ? (r->file.len - h->phoff) / h->phentsize : 0;
    uint64_t count = h->phnum;
    if (count > avail) {
        ds_diag_add(&d->diags, avail ? DS_SEV_WARNING : DS_SEV_ERROR, "Elf_Ehdr", 1, h->phoff,
                    "program header table (%u entries at 0x%llx) runs past the end of the file: "
                    "%llu entries readable",
                    h->phnum, (unsigned long long)h->phoff, (unsigned long long)avail);
        if (!avail)
            return false;
        r->damaged = true;
        count = avail;
    }
    const char *phname = h->is64 ? "Elf64_Phdr" : "Elf32_Phdr";
    for (uint64_t i = 0; i < count; i++) {
        ds_cursor p = ds_cur_sub(&r->file, h->phoff + i * h->phentsize, h->phentsize);
        seg s;
        memset(&s, 0, sizeof s);
        uint32_t type = ds_cur_u32(&p);
        if (h->is64) {
            s.flags = ds_cur_u32(&p);
            s.offset = ds_cur_u64(&p);
            s.vaddr = ds_cur_u64(&p);
            s.paddr = ds_cur_u64(&p);
            s.filesz = ds_cur_u64(&p);
            s.memsz = ds_cur_u64(&p);
        } else {
            s.offset = ds_cur_u32(&p);
            s.vaddr = ds_cur_u32(&p);
            s.paddr = ds_cur_u32(&p);
            s.filesz = ds_cur_u32(&p);
            s.memsz = ds_cur_u32(&p);
            s.flags = ds_cur_u32(&p);
        }
        s.index = (uint32_t)i;
        if (p.bad)
            break; /* cannot happen: bounds checked above */
        char sname[40];
        snprintf(sname, sizeof sname, "%s[%llu]", phname, (unsigned long long)i);
        if (type == PT_NOTE) {
            uint64_t len = s.filesz;
            if (!ds_in_bounds(s.offset, len, r->file.len)) {
                ds_diag_add(&d->diags, DS_SEV_WARNING, sname, 1, p.base_off,
                            "PT_NOTE [0x%llx, +0x%llx) runs past the end of the file (%llu "
                            "bytes): clipped",
                            (unsigned long long)s.offset, (unsigned long long)len,
                            (unsigned long long)r->file.len);
                r->damaged = true;
                len = s.offset < r->file.len ? r->file.len - s.offset : 0;
            }
            if (len)
                walk_notes(r, ds_cur_sub(&r->file, s.offset, len), (uint32_t)i);
        } else if (type == PT_LOAD) {
            if (s.memsz == 0)
                continue;
            if (s.vaddr + s.memsz < s.vaddr || s.vaddr + s.memsz == 0) {
                ds_diag_add(&d->diags, DS_SEV_WARNING, sname, 1, p.base_off,
                            "segment [0x%llx, +0x%llx) wraps the address space: clipped",
                            (unsigned long long)s.vaddr, (unsigned long long)s.memsz);
                r->damaged = true;
                s.memsz = UINT64_MAX - s.vaddr;
                if (!s.memsz)
                    continue;
            }
            if (s.filesz > s.memsz) {
                ds_diag_add(&d->diags, DS_SEV_NOTE, sname, 1, p.base_off,
                            "p_filesz 0x%llx > p_memsz 0x%llx: only p_memsz bytes used",
                            (unsigned long long)s.filesz, (unsigned long long)s.memsz);
                s.filesz = s.memsz;
            }
            if (s.filesz && !ds_in_bounds(s.offset, s.filesz, r->file.len)) {
                uint64_t have = s.offset < r->file.len ? r->file.len - s.offset : 0;
                ds_diag_add(&d->diags, DS_SEV_WARNING, sname, 1, p.base_off,
                            "data [0x%llx, +0x%llx) for 0x%llx runs past the end of the file: "
                            "%llu bytes present, the rest not captured",
                            (unsigned long long)s.offset, (unsigned long long)s.filesz,
                            (unsigned long long)s.vaddr, (unsigned long long)have);
                r->damaged = true;
            }
            if (!DS_PUSH(r->segs, r->nsegs, r->csegs, s)) {
                r->damaged = true;
                return true;
            }
        }
    }
    return true;
}

static uint64_t seg_captured(const rdr *r, const seg *s)
{
    if (!s->filesz || s->offset >= r->file.len)
        return 0;
    uint64_t have = r->file.len - s->offset;
    return s->filesz < have ? s->filesz : have;
}

static void build_view(rdr *r)
{
    ds_dump *d = r->d;
    ds_vmem_init(&d->vm, d->map, d->map_size, r->ps);
    for (size_t i = 0; i < r->nsegs; i++) {
        const seg *s = &r->segs[i];
        bool ok = true;
        if (s->filesz)
            ok = ds_vmem_add(&d->vm, s->vaddr, s->filesz, DS_RANGE_DATA, s->offset, s->index);
        if (ok && s->filesz < s->memsz)
            ok = ds_vmem_add(&d->vm, s->vaddr + s->filesz, s->memsz - s->filesz,
                             DS_RANGE_NOT_CAPTURED, 0, s->index);
        if (!ok) {
            r->damaged = true;
            ds_diag_add(&d->diags, DS_SEV_ERROR, "memory view", 0, 0, "out of memory");
            break;
        }
    }
    uint64_t dropped = ds_vmem_finish(&d->vm);
    if (dropped) {
        ds_diag_add(&d->diags, DS_SEV_WARNING, "PT_LOAD", 0, 0,
                    "PT_LOAD segments overlap: %llu bytes of later segments ignored",
                    (unsigned long long)dropped);
        r->damaged = true;
    }
    d->vm.has_map_info = true;
}

static void build_regions(rdr *r)
{
    ds_dump *d = r->d;
    if (!r->nsegs)
        return;
    d->regions = calloc(r->nsegs, sizeof(ds_region));
    if (!d->regions) {
        r->damaged = true;
        return;
    }
    for (size_t i = 0; i < r->nsegs; i++) {
        const seg *s = &r->segs[i];
        ds_region *g = &d->regions[i];
        g->base = g->alloc_base = s->vaddr;
        g->size = s->memsz;
        g->perm = s->flags & 7u;
        g->protect = g->alloc_protect = protect_of(g->perm);
        g->state = DS_MEM_COMMIT;
        g->type = DS_MEM_PRIVATE;
        g->file = -1;
        g->captured = seg_captured(r, s);
    }
    d->nregions = r->nsegs;
    qsort(d->regions, d->nregions, sizeof(ds_region), cmp_region);
    d->has_region_table = true;
}

static void type_regions(rdr *r, const bool *is_image)
{
    ds_dump *d = r->d;
    ds_linux_info *l = &d->lnx;
    size_t *sorted = l->nfiles ? malloc(l->nfiles * sizeof *sorted) : NULL;
    if (l->nfiles && !sorted) {
        r->damaged = true;
        return;
    }
    for (size_t i = 0; i < l->nfiles; i++)
        sorted[i] = i;
    if (l->nfiles)
        qsort_r(sorted, l->nfiles, sizeof *sorted, cmp_file_start, l->files);
    const ds_module *vdso = NULL;
    for (size_t i = 0; i < d->nmodules; i++)
        if (!strcmp(d->modules[i].path, "[vdso]"))
            vdso = &d->modules[i];
    for (size_t i = 0; i < d->nregions; i++) {
        ds_region *g = &d->regions[i];
        g->file = l->nfiles ? file_at(l, sorted, g->base) : -1;
        if (g->file >= 0)
            g->type = is_image[g->file] ? DS_MEM_IMAGE : DS_MEM_MAPPED;
        else if (vdso && g->base >= vdso->base && g->base - vdso->base < vdso->size)
            g->type = DS_MEM_IMAGE;
    }
    free(sorted);
}

static void finish_threads(rdr *r)
{
    ds_dump *d = r->d;
    for (size_t i = 0; i < d->nthreads; i++) {
        ds_thread *t = &d->threads[i];
        t->pid = d->lnx.has_prpsinfo ? d->lnx.pid : 0;
        if (d->lnx.has_prpsinfo && t->tid == d->lnx.pid)
            snprintf(t->name, sizeof t->name, "%s", d->lnx.fname);
        const ds_region *g = t->sp ? ds_region_at(d, t->sp) : NULL;
        if (g) {
            t->stack_start = t->sp;
            t->stack_size = g->base + g->size - t->sp;
        }
    }
    ds_exception *e = &d->exc;
    if (!e->present) { /* no NT_SIGINFO: the first thread's current signal */
        for (size_t i = 0; i < d->nthreads && i < 1; i++)
            if (d->threads[i].signal > 0) {
                e->present = true;
                e->tid = d->threads[i].tid;
                e->code = (uint32_t)d->threads[i].signal;
                e->name = signal_name(e->code);
            }
    }
    if (e->present) {
        if (!e->tid && d->nthreads)
            e->tid = d->threads[0].tid;
        for (size_t i = 0; i < d->nthreads; i++)
            if (d->threads[i].tid == e->tid && d->threads[i].has_context) {
                e->address = d->threads[i].pc;
                break;
            }
    }
}

static void classify(rdr *r)
{
    ds_dump *d = r->d;
    ds_linux_info *l = &d->lnx;
    const char *prod = "unknown";
    if (l->nt_file_convention == CONV_GDB || r->have_gdb_tdesc)
        prod = "gdb";
    else if (l->nt_file_convention == CONV_CREATEDUMP)
        prod = "createdump";
    else if (l->nt_file_convention == CONV_KERNEL || r->have_siginfo)
        prod = "kernel";
    snprintf(d->producer, sizeof d->producer, "%s", prod);
    /* gcore of a live process: every thread's siginfo is the SIGSTOP of gdb's attach, which is
     * not an exception of the process. */
    if (!strcmp(prod, "gdb") && d->exc.present && d->exc.code == 19 /* SIGSTOP */) {
        ds_diag_add(&d->diags, DS_SEV_NOTE, "NT_SIGINFO", 0, 0,
                    "SIGSTOP from the debugger's attach (gcore snapshot): not reported as an "
                    "exception");
        memset(&d->exc, 0, sizeof d->exc);
    }
    d->format_name = !strcmp(prod, "gdb")          ? "ELF core (gdb)"
                     : !strcmp(prod, "kernel")     ? "ELF core (kernel)"
                     : !strcmp(prod, "createdump") ? "ELF core (createdump)"
                                                   : "ELF core";
    uint64_t total = 0, captured = 0, wtotal = 0, wcaptured = 0;
    size_t partial = 0;
    for (size_t i = 0; i < r->nsegs; i++) {
        uint64_t c = seg_captured(r, &r->segs[i]);
        total += r->segs[i].memsz;
        captured += c;
        if (c < r->segs[i].memsz)
            partial++;
        if (r->segs[i].flags & PF_W) {
            wtotal += r->segs[i].memsz;
            wcaptured += c;
        }
    }
    if (!r->nsegs) {
        d->kind = DS_KIND_MINI;
        snprintf(d->kind_reason, sizeof d->kind_reason, "no PT_LOAD segments: notes only");
    } else if (!partial) {
        d->kind = DS_KIND_FULL;
        snprintf(d->kind_reason, sizeof d->kind_reason,
                 "all %zu PT_LOAD segments carry their data (%llu bytes)", r->nsegs,
                 (unsigned long long)captured);
    } else if (wcaptured == wtotal || (wtotal && wcaptured >= wtotal / 10 * 9)) {
        d->kind = DS_KIND_WITH_HEAP;
        snprintf(d->kind_reason, sizeof d->kind_reason,
                 "%llu of %llu writable bytes captured; %zu of %zu PT_LOADs (mostly read-only or "
                 "file-backed) incomplete",
                 (unsigned long long)wcaptured, (unsigned long long)wtotal, partial, r->nsegs);
    } else {
        d->kind = DS_KIND_MINI;
        snprintf(d->kind_reason, sizeof d->kind_reason,
                 "only %llu of %llu writable bytes captured (%zu of %zu PT_LOADs incomplete)",
                 (unsigned long long)wcaptured, (unsigned long long)wtotal, partial, r->nsegs);
    }
    (void)total;
}

ds_status ds_elfcore_read(ds_dump *d)
{
    ehdr h;
    const char *why = NULL;
    if (!parse_ehdr(d->map, d->map_size, &h, &why)) {
        bool be = d->map_size >= 6 && d->map[5] == 2;
        ds_diag_add(&d->diags, DS_SEV_ERROR, "Elf_Ehdr", 1, 0, "%s", why);
        return be ? DS_E_UNSUPPORTED : DS_E_FORMAT;
    }
    rdr r;
    memset(&r, 0, sizeof r);
    r.d = d;
    r.file = ds_cur(d->map, d->map_size, 0);
    r.is64 = h.is64;
    r.ps = h.is64 ? 8 : 4;
    r.machine = h.machine;
    d->format = DS_FMT_ELFCORE;
    d->format_name = "ELF core";
    d->sys.os = DS_OS_LINUX;
    d->sys.arch = arch_of(h.machine, h.is64);
    d->sys.ptr_size = r.ps;
    d->sys.target_ptr_size = r.ps;
    snprintf(d->sys.os_text, sizeof d->sys.os_text, "Linux");
    if (h.xnum)
        ds_diag_add(&d->diags, DS_SEV_NOTE, "Elf_Shdr[0]", 1, h.shoff,
                    "PN_XNUM: %u program headers (count from section header 0)", h.phnum);
    if (!read_phdrs(&r, &h)) {
        free(r.segs);
        return DS_E_FORMAT;
    }
    if (!r.nsegs && !d->nstreams) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "Elf_Phdr", 1, h.phoff,
                    "no usable PT_LOAD or PT_NOTE segment");
        free(r.segs);
        return DS_E_FORMAT;
    }
    if (!d->nthreads)
        ds_diag_add(&d->diags, DS_SEV_WARNING, "PT_NOTE", 0, 0, "no NT_PRSTATUS: no threads");
    normalise_files(&r);
    build_view(&r);
    build_regions(&r);
    bool *is_image = d->lnx.nfiles ? calloc(d->lnx.nfiles, sizeof(bool)) : NULL;
    if (d->lnx.nfiles && !is_image) {
        r.damaged = true;
    } else {
        build_modules(&r, is_image);
        type_regions(&r, is_image);
    }
    free(is_image);
    finish_threads(&r);
    if (r.have_platform) {
        char plat[64];
        if (ds_vmem_cstr(&d->vm, r.platform_ptr, plat, sizeof plat) == DS_MEM_OK && plat[0]) {
            char clean[64];
            ds_copy_clean(clean, sizeof clean, (const uint8_t *)plat, strlen(plat));
            snprintf(d->sys.os_text, sizeof d->sys.os_text, "Linux (AT_PLATFORM %s)", clean);
        }
    }
    classify(&r);
    free(r.segs);
    return r.damaged ? DS_E_PARTIAL : DS_OK;
}
