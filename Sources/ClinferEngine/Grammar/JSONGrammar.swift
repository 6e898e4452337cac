/// A pushdown automaton over the bytes of JSON text that only accepts what a ``JSONSchema``
/// allows: constrained generation asks it, for each candidate token, whether the token's bytes
/// can come next (``accepts(_:)``), and feeds the chosen token's bytes (``feed(_:)``). A token
/// may close one value and open the next (`",` or `5}`): the automaton works byte by byte, so
/// token boundaries never matter.
///
/// Output form: compact JSON with at most one space after `:` and `,`; numbers of at most 15
/// integer and 15 fraction digits; nesting of schema-free values at most ``maxDepth`` deep. A
/// value type (copying it is how a token is tried without committing).
public struct JSONGrammar: Sendable {
    /// Nesting depth at which schema-free (`any`) values may no longer open objects or arrays.
    public static let maxDepth = 12
    static let maxDigits = 15

    private var stack: [Frame]

    /// An automaton expecting one value of `schema` (``JSONSchema/anyObject`` for `json_object`).
    public init(schema: JSONSchema) {
        stack = [.root(done: false), .value(schema)]
    }

    /// The root value is complete: nothing may follow it.
    public var isComplete: Bool {
        if case .root(done: true) = stack.last { return true }
        return false
    }

    /// The text so far is a whole value (the root value is complete, or is a number that could
    /// end here): the end of the sequence is allowed.
    public var canEnd: Bool {
        if isComplete { return true }
        guard stack.count == 2 else { return false }
        return stack[1].isEndable
    }

    /// Whether `bytes` can come next.
    public func accepts(_ bytes: some Sequence<UInt8>) -> Bool {
        var copy = self
        for byte in bytes where !copy.feed(byte) { return false }
        return true
    }

    /// Advances over `byte`; false (and unchanged meaning: discard the automaton) when the
    /// schema does not allow it here.
    @discardableResult
    public mutating func feed(_ byte: UInt8) -> Bool {
        while true {
            guard let top = stack.last else { return false }
            switch step(top, byte) {
            case .reject:
                return false
            case .consume(let frame):
                stack[stack.count - 1] = frame
                return true
            case .replace(let frames):
                stack.removeLast()
                stack += frames
                return true
            case .descend(let frames):
                // A member's value starts here: its frame, pushed above, reads `byte`.
                stack.removeLast()
                stack += frames
            case .completeConsuming:
                stack.removeLast()
                childCompleted()
                return true
            case .completeBefore:
                // The value ended just before `byte` (a number): the parent reads `byte`.
                stack.removeLast()
                childCompleted()
            }
        }
    }

    // MARK: Frames

    private enum Frame: Sendable {
        case root(done: Bool)
        /// Expecting the first byte of a value.
        case value(JSONSchema)
        case object(ObjectState)
        case array(ArrayState)
        case string(StringState)
        case literal(LiteralState)
        case number(NumberState)

        /// A number or literal that may end at this byte.
        var isEndable: Bool {
            switch self {
            case .number(let state): state.isEndable
            case .literal(let state): state.isEndable
            default: false
            }
        }
    }

    private enum Step {
        case reject
        case consume(Frame)
        /// Consumed; the frame becomes these (the last one on top).
        case replace([Frame])
        /// Not consumed: the frame becomes these, and the new top reads the byte.
        case descend([Frame])
        case completeConsuming
        case completeBefore
    }

    private var depth: Int { stack.count }

    private func step(_ frame: Frame, _ byte: UInt8) -> Step {
        switch frame {
        case .root: return .reject
        case .value(let schema): return start(schema, byte)
        case .object(let state): return state.step(byte, depth: depth)
        case .array(let state): return state.step(byte)
        case .string(var state): return state.step(byte)
        case .literal(let state): return state.step(byte)
        case .number(var state): return state.step(byte)
        }
    }

    /// The first byte of a value of `schema`.
    private func start(_ schema: JSONSchema, _ byte: UInt8) -> Step {
        switch schema {
        case .union(let members):
            // Prefer the widest member that can start with this byte (number over integer).
            let ordered = members.sorted { Self.width($0) > Self.width($1) }
            for member in ordered {
                let step = start(member, byte)
                if case .reject = step { continue }
                return step
            }
            return .reject
        case .any:
            switch byte {
            case UInt8(ascii: "{"):
                guard depth < Self.maxDepth else { return .reject }
                return .replace([.object(ObjectState(properties: [], required: [], anyKeys: true))])
            case UInt8(ascii: "["):
                guard depth < Self.maxDepth else { return .reject }
                return .replace([.array(ArrayState(items: .any, minItems: 0, maxItems: nil))])
            case UInt8(ascii: "\""): return .replace([.string(StringState(minLength: 0, maxLength: nil))])
            case UInt8(ascii: "t"), UInt8(ascii: "f"): return start(.boolean, byte)
            case UInt8(ascii: "n"): return start(.null, byte)
            default: return start(.number(integer: false), byte)
            }
        case .object(let properties, let required, let freeForm):
            guard byte == UInt8(ascii: "{") else { return .reject }
            if freeForm && depth >= Self.maxDepth { return .reject }
            return .replace([.object(ObjectState(properties: properties, required: required, anyKeys: freeForm))])
        case .array(let items, let minItems, let maxItems):
            guard byte == UInt8(ascii: "[") else { return .reject }
            return .replace([.array(ArrayState(items: items, minItems: minItems, maxItems: maxItems))])
        case .string(let minLength, let maxLength):
            guard byte == UInt8(ascii: "\"") else { return .reject }
            return .replace([.string(StringState(minLength: minLength, maxLength: maxLength))])
        case .number(let integer):
            var state = NumberState(integer: integer)
            guard case .consume(let frame) = state.step(byte) else { return .reject }
            return .replace([frame])
        case .boolean: return Self.literal(["true", "false"], byte)
        case .null: return Self.literal(["null"], byte)
        case .oneOf(let values): return Self.literal(values, byte)
        }
    }

    private static func literal(_ texts: [String], _ byte: UInt8) -> Step {
        let state = LiteralState(candidates: texts.map { Array($0.utf8) }, matched: 0)
        switch state.step(byte) {
        case .consume(let frame): return .replace([frame])
        case .completeConsuming: return .completeConsuming  // a one-byte value: done at once
        default: return .reject
        }
    }

    private static func width(_ schema: JSONSchema) -> Int {
        if case .number(integer: false) = schema { return 1 }
        return 0
    }

    /// The frame on top finished a value: its parent moves on.
    private mutating func childCompleted() {
        guard let parent = stack.last else { return }
        switch parent {
        case .root: stack[stack.count - 1] = .root(done: true)
        case .object(var state):
            state.phase = .afterMember
            stack[stack.count - 1] = .object(state)
        case .array(var state):
            state.phase = .afterItem
            stack[stack.count - 1] = .array(state)
        default: break
        }
    }

    // MARK: Objects

    private struct ObjectState: Sendable {
        enum Phase: Sendable {
            /// After `{`, or after `,` (with `spaced` once a space was read).
            case expectKey(afterComma: Bool, spaced: Bool)
            /// Inside a listed key: the bytes after its opening quote so far.
            case key([UInt8])
            /// Inside a free key (any-object).
            case freeKey(StringState)
            case colon
            case afterColon(spaced: Bool)
            /// The member's value is being read (a child frame is on top).
            case member
            case afterMember
        }

        let properties: [JSONSchema.Property]
        let required: Set<String>
        let anyKeys: Bool
        var phase = Phase.expectKey(afterComma: false, spaced: false)
        /// Properties before this index are written or skipped.
        var next = 0
        var requiredSeen = 0
        /// The current member's schema (after its key).
        var current: JSONSchema = .any

        init(properties: [JSONSchema.Property], required: Set<String>, anyKeys: Bool) {
            self.properties = properties
            self.required = required
            self.anyKeys = anyKeys
        }

        /// Indices of the properties that may come next: from `next` up to the first required
        /// one not yet written (required properties cannot be skipped).
        var candidates: Range<Int> {
            var end = next
            while end < properties.count {
                end += 1
                if required.contains(properties[end - 1].name) { break }
            }
            return next..<end
        }

        var mayClose: Bool { anyKeys || requiredSeen == required.count }
        var mayContinue: Bool { anyKeys || next < properties.count }

        func step(_ byte: UInt8, depth: Int) -> Step {
            var state = self
            switch phase {
            case .expectKey(let afterComma, let spaced):
                if byte == UInt8(ascii: " "), afterComma, !spaced {
                    state.phase = .expectKey(afterComma: true, spaced: true)
                    return .consume(.object(state))
                }
                if byte == UInt8(ascii: "}"), !afterComma, mayClose { return .completeConsuming }
                guard byte == UInt8(ascii: "\"") else { return .reject }
                if anyKeys {
                    state.phase = .freeKey(StringState(minLength: 0, maxLength: nil))
                } else {
                    guard !candidates.isEmpty else { return .reject }
                    state.phase = .key([])
                }
                return .consume(.object(state))
            case .key(let typed):
                if byte == UInt8(ascii: "\"") {
                    // The key ends: it must be exactly one candidate's escaped name.
                    guard let index = candidates.first(where: { Array(Self.escaped(properties[$0].name)) == typed })
                    else { return .reject }
                    state.next = index + 1
                    if required.contains(properties[index].name) { state.requiredSeen += 1 }
                    state.current = properties[index].schema
                    state.phase = .colon
                    return .consume(.object(state))
                }
                let extended = typed + [byte]
                guard candidates.contains(where: { Self.escaped(properties[$0].name).starts(with: extended) }) else {
                    return .reject
                }
                state.phase = .key(extended)
                return .consume(.object(state))
            case .freeKey(var key):
                switch key.step(byte) {
                case .consume(.string(let updated)):
                    state.phase = .freeKey(updated)
                    return .consume(.object(state))
                case .completeConsuming:
                    state.current = .any
                    state.phase = .colon
                    return .consume(.object(state))
                default: return .reject
                }
            case .colon:
                guard byte == UInt8(ascii: ":") else { return .reject }
                state.phase = .afterColon(spaced: false)
                return .consume(.object(state))
            case .afterColon(let spaced):
                if byte == UInt8(ascii: " "), !spaced {
                    state.phase = .afterColon(spaced: true)
                    return .consume(.object(state))
                }
                state.phase = .member
                // The value's first byte is read by its own frame, pushed above this one.
                return .descend([.object(state), .value(current)])
            case .member:
                return .reject
            case .afterMember:
                if byte == UInt8(ascii: "}"), mayClose { return .completeConsuming }
                guard byte == UInt8(ascii: ","), mayContinue else { return .reject }
                if !anyKeys && candidates.isEmpty { return .reject }
                state.phase = .expectKey(afterComma: true, spaced: false)
                return .consume(.object(state))
            }
        }

        static func escaped(_ name: String) -> Array<UInt8>.SubSequence {
            let quoted = Array(JSONValue.quoted(name).utf8)
            return quoted[1..<quoted.count - 1]
        }
    }

    // MARK: Arrays

    private struct ArrayState: Sendable {
        enum Phase: Sendable {
            case open
            case afterComma(spaced: Bool)
            case item
            case afterItem
        }

        let items: JSONSchema
        let minItems: Int
        let maxItems: Int?
        var count = 0
        var phase = Phase.open

        init(items: JSONSchema, minItems: Int, maxItems: Int?) {
            self.items = items
            self.minItems = minItems
            self.maxItems = maxItems
        }

        func step(_ byte: UInt8) -> Step {
            var state = self
            switch phase {
            case .open, .afterComma:
                if case .afterComma(false) = phase, byte == UInt8(ascii: " ") {
                    state.phase = .afterComma(spaced: true)
                    return .consume(.array(state))
                }
                if case .open = phase, byte == UInt8(ascii: "]") {
                    return minItems == 0 ? .completeConsuming : .reject
                }
                if let maxItems, count >= maxItems { return .reject }
                state.count += 1
                state.phase = .item
                return .descend([.array(state), .value(items)])
            case .item:
                return .reject
            case .afterItem:
                if byte == UInt8(ascii: "]") { return count >= minItems ? .completeConsuming : .reject }
                guard byte == UInt8(ascii: ","), maxItems.map({ count < $0 }) ?? true else { return .reject }
                state.phase = .afterComma(spaced: false)
                return .consume(.array(state))
            }
        }
    }

    // MARK: Strings

    private struct StringState: Sendable {
        enum Escape: Sendable {
            case none
            case backslash
            case unicode(remaining: Int)
        }

        let minLength: Int
        let maxLength: Int?
        var count = 0
        var escape = Escape.none
        /// Continuation bytes the current UTF-8 character still needs.
        var pending = 0

        init(minLength: Int, maxLength: Int?) {
            self.minLength = minLength
            self.maxLength = maxLength
        }

        /// One more character (an escape counts as one).
        private mutating func counted() -> Bool {
            count += 1
            return maxLength.map { count <= $0 } ?? true
        }

        mutating func step(_ byte: UInt8) -> Step {
            switch escape {
            case .backslash:
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    escape = .none
                case UInt8(ascii: "u"): escape = .unicode(remaining: 4)
                default: return .reject
                }
                return .consume(.string(self))
            case .unicode(let remaining):
                guard Self.isHex(byte) else { return .reject }
                escape = remaining == 1 ? .none : .unicode(remaining: remaining - 1)
                return .consume(.string(self))
            case .none:
                // Valid UTF-8 only, so that characters are counted as a reader counts them.
                if pending > 0 {
                    guard (0x80..<0xC0).contains(byte) else { return .reject }
                    pending -= 1
                    return .consume(.string(self))
                }
                switch byte {
                case UInt8(ascii: "\""): return count >= minLength ? .completeConsuming : .reject
                case UInt8(ascii: "\\"):
                    guard counted() else { return .reject }
                    escape = .backslash
                    return .consume(.string(self))
                case 0..<0x20, 0x80..<0xC2, 0xF5...0xFF: return .reject
                default:
                    guard counted() else { return .reject }
                    pending = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : 0
                    return .consume(.string(self))
                }
            }
        }

        static func isHex(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
    }

    // MARK: Literals (true, false, null, enum members)

    private struct LiteralState: Sendable {
        var candidates: [[UInt8]]
        var matched: Int

        /// Some candidate is complete (it may end here).
        var isEndable: Bool { candidates.contains { $0.count == matched } }

        func step(_ byte: UInt8) -> Step {
            let next = candidates.filter { $0.count > matched && $0[matched] == byte }
            guard !next.isEmpty else { return isEndable ? .completeBefore : .reject }
            let state = LiteralState(candidates: next, matched: matched + 1)
            // Every candidate left ends here: the value is complete.
            if next.allSatisfy({ $0.count == matched + 1 }) { return .completeConsuming }
            return .consume(.literal(state))
        }
    }

    // MARK: Numbers

    private struct NumberState: Sendable {
        enum Phase: Sendable {
            case start, sign, zero, integer, point, fraction, exponent, exponentSign, exponentDigits
        }

        let integer: Bool
        var phase = Phase.start
        var digits = 0

        init(integer: Bool) { self.integer = integer }

        var isEndable: Bool {
            switch phase {
            case .zero, .integer, .fraction, .exponentDigits: true
            default: false
            }
        }

        mutating func step(_ byte: UInt8) -> Step {
            let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            func go(_ next: Phase, resetDigits: Bool = false) -> Step {
                phase = next
                digits = resetDigits ? 0 : digits + (isDigit ? 1 : 0)
                return .consume(.number(self))
            }
            switch phase {
            case .start:
                if byte == UInt8(ascii: "-") { return go(.sign) }
                fallthrough
            case .sign:
                if byte == UInt8(ascii: "0") { return go(.zero) }
                return isDigit ? go(.integer) : .reject
            case .zero, .integer:
                if isDigit, phase == .integer, digits < JSONGrammar.maxDigits { return go(.integer) }
                if !integer, byte == UInt8(ascii: ".") { return go(.point, resetDigits: true) }
                if !integer, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    return go(.exponent, resetDigits: true)
                }
                return isDigit ? .reject : .completeBefore
            case .point:
                return isDigit ? go(.fraction) : .reject
            case .fraction:
                if isDigit { return digits < JSONGrammar.maxDigits ? go(.fraction) : .reject }
                if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return go(.exponent, resetDigits: true) }
                return .completeBefore
            case .exponent:
                if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { return go(.exponentSign) }
                fallthrough
            case .exponentSign:
                return isDigit ? go(.exponentDigits) : .reject
            case .exponentDigits:
                if isDigit { return digits < 3 ? go(.exponentDigits) : .reject }
                return .completeBefore
            }
        }
    }
}
