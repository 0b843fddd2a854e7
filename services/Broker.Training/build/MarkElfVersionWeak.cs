// The Debian 12 loader fix for TorchSharp's native library (../shared/ENVIRONMENT.md, "Neural networks"), run by
// MSBuild after every build of Broker.Training (an inline RoslynCodeTaskFactory task: see Broker.Training.csproj).
//
// libLibTorchSharp.so (TorchSharp 0.107.0) asks for GLIBCXX_3.4.32, but Debian 12's libstdc++ stops at 3.4.30, so
// the dynamic loader refuses it and TorchSharp reports "libtorch-cpu-linux-x64 ... is not restored". Only one symbol
// carries that version (_ZSt21ios_base_library_initv) and nothing calls it. A version requirement whose vernaux
// entry has VER_FLG_WEAK (0x2) is one the loader may miss without failing (glibc elf/dl-version.c, match_symbol:
// "weak" requirements only warn), so the task sets that flag on the GLIBCXX_3.4.32 entry of the library's
// .gnu.version_r section (ELF gABI "Symbol Versioning", Elf64_Verneed / Elf64_Vernaux) in the copy under bin/.
// It changes two bytes, leaves every other entry alone and is idempotent (a flag already weak is left as it is).
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class MarkElfVersionWeak : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>The ELF shared library to patch in place.</summary>
    [Required]
    public string Library { get; set; } = "";

    /// <summary>The version name whose requirement becomes weak, e.g. GLIBCXX_3.4.32.</summary>
    [Required]
    public string Version { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(Library))
        {
            Log.LogError($"MarkElfVersionWeak: {Library}: no such file");
            return false;
        }
        byte[] elf = File.ReadAllBytes(Library);
        // ELF64 little-endian only (x86-64): e_ident "\x7fELF", EI_CLASS 2, EI_DATA 1.
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
        {
            Log.LogError($"MarkElfVersionWeak: {Library}: not a little-endian ELF64 file");
            return false;
        }
        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3a), shnum = BitConverter.ToUInt16(elf, 0x3c);
        int found = 0, changed = 0;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
            uint link = BitConverter.ToUInt32(elf, (int)sh + 0x28);
            long strtab = (long)BitConverter.ToUInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
            for (long vn = offset; ; )
            {
                int count = BitConverter.ToUInt16(elf, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                for (int a = 0; a < count; a++)
                {
                    string name = CString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                    if (name == Version)
                    {
                        found++;
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            flags |= VerFlgWeak;
                            elf[aux + 4] = (byte)flags;
                            elf[aux + 5] = (byte)(flags >> 8);
                            changed++;
                        }
                    }
                    uint next = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (next == 0) break;
                    aux += next;
                }
                uint vnNext = BitConverter.ToUInt32(elf, (int)vn + 12);
                if (vnNext == 0) break;
                vn += vnNext;
            }
        }
        if (changed > 0) File.WriteAllBytes(Library, elf);
        Log.LogMessage(MessageImportance.Normal, $"MarkElfVersionWeak: {Path.GetFileName(Library)}: {Version}: {found} requirement(s), {changed} marked weak now");
        // A library that no longer asks for the version (a later TorchSharp) needs no fix: not an error.
        return true;
    }

    private static string CString(byte[] data, long at)
    {
        int end = (int)at;
        while (end < data.Length && data[end] != 0) end++;
        return Encoding.ASCII.GetString(data, (int)at, end - (int)at);
    }
}
