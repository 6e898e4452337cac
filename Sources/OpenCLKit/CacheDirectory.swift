import Foundation

/// Where Clinfer keeps per-user state: compiled program binaries and GEMM tuning files.
///
/// `CLINFER_CACHE_DIR` overrides the location; otherwise `$XDG_CACHE_HOME/clinfer`, else
/// `~/.cache/clinfer`.
public enum CacheDirectory {
    /// The root cache directory (not created by this call).
    public static var root: URL {
        let environment = ProcessInfo.processInfo.environment
        if let custom = environment["CLINFER_CACHE_DIR"], !custom.isEmpty {
            return URL(fileURLWithPath: custom, isDirectory: true)
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg, isDirectory: true).appending(path: "clinfer", directoryHint: .isDirectory)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appending(
            path: ".cache/clinfer", directoryHint: .isDirectory)
    }

    /// A file-name-safe rendering of `text` (letters, digits, '-', '_', '.'), with a hash
    /// suffix so distinct inputs never collide.
    public static func fileName(for text: String) -> String {
        let safe = String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }.prefix(80))
        return "\(safe)-\(String(StableHash.fnv1a64(text), radix: 16))"
    }
}

/// A hash that is the same in every process and on every machine (unlike `Hasher`).
public enum StableHash {
    /// 64-bit FNV-1a of the UTF-8 bytes of `text`.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }
}
