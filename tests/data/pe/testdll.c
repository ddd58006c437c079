/* Source of the test DLLs (see build.sh). Exports are declared in testdll.def. */
#include <windows.h>

int Alpha(int x)
{
    return x + 1;
}
int Beta(int x)
{
    return x * 2;
}
int Gamma(void)
{
    return 7;
}
int Hidden(void) /* exported by ordinal only (NONAME) */
{
    return 42;
}
int DataThing = 5;

BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID reserved)
{
    (void)h;
    (void)reason;
    (void)reserved;
    return TRUE;
}
