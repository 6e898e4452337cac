#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The read-only bytes of a model file: memory-mapped from disk, or an owned copy of bytes
/// handed over in memory. The bytes stay valid and unchanged for the life of the object, which
/// unmaps (or frees) them in `deinit`.
///
/// Sendable: the region is never written after `init`, so sharing it between threads is safe.
final class MappedFile: Sendable {
    /// The file's bytes (empty for an empty file).
    nonisolated(unsafe) let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Maps the regular file at `path` read-only.
    init(path: String) throws(ModelFormatError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .unreadable(path: path, detail: Self.errorText(errno)) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .unreadable(path: path, detail: Self.errorText(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, detail: "not a regular file") }
        let length = Int(info.st_size)
        guard length > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            isMapped = false
            return
        }
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw .unreadable(path: path, detail: "mmap failed: \(Self.errorText(errno))")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: length)
        isMapped = true
    }

    /// Takes a private copy of `contents`.
    init(copying contents: some Collection<UInt8>) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: contents.count, alignment: 64)
        buffer.copyBytes(from: contents)
        bytes = UnsafeRawBufferPointer(buffer)
        isMapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    private static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
