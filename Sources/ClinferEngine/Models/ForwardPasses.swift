import Synchronization

/// A model's activations, kept per token count, and the lock that runs its forward passes one at
/// a time.
///
/// A forward pass writes its activations (and its KV cache) in place, so two passes at once from
/// two threads would overwrite each other's; the lock makes sharing a model between threads
/// (it is `Sendable`) safe, and costs nothing in the engine, where one thread runs every pass.
final class ForwardPasses<Workspace: Sendable>: Sendable {
    private let workspaces = Mutex<[Int: Workspace]>([:])
    private let make: @Sendable (Int) throws -> Workspace
    private let limit: Int, kept: Int

    /// `make` allocates the activations of a pass over a given number of tokens. Once `limit`
    /// sizes are held, a new size drops every one above `kept` tokens (prompt sizes come and go;
    /// the decode batches' stay).
    init(limit: Int, keepingUpTo kept: Int, make: @escaping @Sendable (Int) throws -> Workspace) {
        self.make = make
        self.limit = limit
        self.kept = kept
    }

    /// Runs `pass` with the workspace for `tokens` tokens, holding the lock until it returns.
    func run<R: Sendable>(tokens: Int, _ pass: (Workspace) throws -> R) throws -> R {
        try workspaces.withLock { pool throws -> R in
            if let existing = pool[tokens] { return try pass(existing) }
            if pool.count >= limit { pool = pool.filter { $0.key <= kept } }
            let fresh = try make(tokens)
            pool[tokens] = fresh
            return try pass(fresh)
        }
    }
}
