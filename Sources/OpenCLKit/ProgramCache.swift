import Foundation

/// An on-disk cache of compiled program binaries, so a warm start never recompiles kernels.
///
/// The key is the source, the build options, the device identity (name, driver version,
/// platform version) and the cache format version. Each file stores its full key and is used
/// only when the key matches exactly, so a hash collision or a driver update can never load a
/// wrong binary. Files are written atomically (temporary file, then rename); any load error
/// means the program is rebuilt from source and the file rewritten.
public final class ProgramCache: Sendable {
    public let directory: URL
    private static let formatVersion = "clinfer-program-cache-v1"
    private static let magic = Array("CLPC1\n".utf8)

    /// A cache in `directory` (created on first store).
    public init(directory: URL) {
        self.directory = directory
    }

    /// The default cache under ``CacheDirectory/root``, or nil when `CLINFER_PROGRAM_CACHE=off`.
    public static var standard: ProgramCache? {
        if ProcessInfo.processInfo.environment["CLINFER_PROGRAM_CACHE"] == "off" { return nil }
        return ProgramCache(directory: CacheDirectory.root.appending(path: "programs", directoryHint: .isDirectory))
    }

    func key(source: String, options: String, device: Device) -> String {
        [Self.formatVersion, device.cacheIdentity, options, source].joined(separator: "\n\u{1}\n")
    }

    func fileURL(forKey key: String) -> URL {
        directory.appending(path: String(StableHash.fnv1a64(key), radix: 16) + ".bin")
    }

    /// The cached binary for this build, or nil if absent or unreadable.
    public func binary(source: String, options: String, device: Device) -> [UInt8]? {
        let key = Array(key(source: source, options: options, device: device).utf8)
        guard let data = try? Data(contentsOf: fileURL(forKey: String(decoding: key, as: UTF8.self))) else {
            return nil
        }
        let bytes = [UInt8](data)
        let headerSize = Self.magic.count + 8
        guard bytes.count > headerSize, Array(bytes[0..<Self.magic.count]) == Self.magic else { return nil }
        let keyLength = bytes[Self.magic.count..<headerSize].withUnsafeBytes {
            Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)))
        }
        guard keyLength == key.count, bytes.count > headerSize + keyLength,
            Array(bytes[headerSize..<headerSize + keyLength]) == key
        else { return nil }
        return Array(bytes[(headerSize + keyLength)...])
    }

    /// Stores `binary` for this build. Failures are ignored: the cache is an optimisation.
    public func store(_ binary: [UInt8], source: String, options: String, device: Device) {
        let key = key(source: source, options: options, device: device)
        let keyBytes = Array(key.utf8)
        var file = Self.magic
        withUnsafeBytes(of: UInt64(keyBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file += keyBytes
        file += binary
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? Data(file).write(to: fileURL(forKey: key), options: .atomic)
    }
}
