import Foundation

/// Runs the generations of one model by continuous batching: a fixed number of slots of one KV
/// cache pool, and a bounded FIFO of sequences waiting for one. New sequences join at token
/// boundaries (their prompt runs between two decode steps of the others), and every active
/// sequence advances one token per round in one batched forward pass, so a long generation
/// never blocks a short one and each weight is read once per round, not once per sequence. A
/// finished or cancelled sequence frees its slot at once.
///
/// All forward passes run on the scheduler's thread, one at a time: the model's activations
/// are shared. `exclusive` runs other work (teacher-forced scoring) there too, between rounds.
///
/// Sendable: the queues (`pending`, `jobs`, `free`, `active`, `stopped`) are guarded by
/// `condition`; the decoders and the sequences' state are touched by the scheduler thread only.
final class GenerationScheduler: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [SequenceState] = []
    /// Work to run between rounds (``exclusive(_:)``): `run` on the scheduler thread, or `cancel`
    /// if the scheduler shuts down first, so whoever waits for it always hears back.
    private var jobs: [(run: () -> Void, cancel: () -> Void)] = []
    private let decoder: any SequenceDecoder
    private var free: [Int]
    private var active: [(sequence: SequenceState, slot: Int)] = []
    private var stopped = false
    private let makeScratch: () throws -> any SequenceDecoder
    private var scratch: (any SequenceDecoder)?
    private let maxWaiting: Int
    private let deviceName: String

    /// `decoder`'s slots serve generation; `makeScratch` makes the decoder of `exclusive` work
    /// on first use (a KV cache is large: only pay for it when scoring).
    init(decoder: any SequenceDecoder, makeScratch: @escaping () throws -> any SequenceDecoder, maxWaiting: Int) {
        self.decoder = decoder
        free = Array((0..<decoder.slots).reversed())  // lowest slot first
        self.makeScratch = makeScratch
        self.maxWaiting = maxWaiting
        deviceName = decoder.deviceName
        let thread = Thread { self.run() }  // the thread keeps the scheduler alive until shutdown
        thread.name = "clinfer.scheduler"
        thread.start()
    }

    /// Sequences holding a slot.
    var activeCount: Int { condition.withLock { decoder.slots - free.count } }
    /// Sequences waiting for a slot.
    var waitingCount: Int { condition.withLock { pending.count } }

    /// Queues `sequence`; throws when every slot is taken and `maxWaiting` sequences already wait.
    func submit(_ sequence: SequenceState) throws(GenerationError) {
        condition.lock()
        defer { condition.unlock() }
        guard pending.count < free.count + maxWaiting else { throw .queueFull(waiting: pending.count - free.count) }
        pending.append(sequence)
        condition.signal()
    }

    /// Takes `sequence` out of the wait queue and ends it as cancelled, if it is still waiting
    /// (its consumer went away): a cancelled request never holds a place in the queue. A sequence
    /// already running stops at its next token through its cancellation flag instead.
    func withdraw(_ id: ObjectIdentifier) {
        let removed = condition.withLock { () -> SequenceState? in
            guard let index = pending.firstIndex(where: { $0.id == id }) else { return nil }
            return pending.remove(at: index)
        }
        removed?.complete(.cancelled, device: deviceName)
    }

    /// Runs `body` on the scheduler thread with a one-slot decoder of its own, between decode
    /// rounds; suspends without blocking a thread. Throws `CancellationError` if the scheduler
    /// shuts down before the work runs.
    func exclusive<T: Sendable>(_ body: @escaping (any SequenceDecoder) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(body) { continuation.resume(with: $0) }
        }
    }

    /// ``exclusive(_:)`` for synchronous callers (the CLI): blocks the calling thread.
    @available(*, noasync, message: "await exclusive(_:) instead")
    func exclusiveBlocking<T>(_ body: @escaping (any SequenceDecoder) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        // Written once on the scheduler thread before `signal`, read here after `wait`.
        nonisolated(unsafe) var result: Result<T, any Error>?
        enqueue(body) {
            result = $0
            done.signal()
        }
        done.wait()
        return try result!.get()
    }

    /// Queues `body` for the scheduler thread; `completion` gets its result exactly once.
    private func enqueue<T>(
        _ body: @escaping (any SequenceDecoder) throws -> T, completion: @escaping (Result<T, any Error>) -> Void
    ) {
        let accepted = condition.withLock { () -> Bool in
            guard !stopped else { return false }
            jobs.append(
                (
                    run: { [unowned self] in
                        completion(
                            Result {
                                if scratch == nil { scratch = try makeScratch() }
                                return try body(scratch!)
                            })
                    }, cancel: { completion(.failure(CancellationError())) }
                ))
            condition.signal()
            return true
        }
        if !accepted { completion(.failure(CancellationError())) }
    }

    /// Stops the thread after the current round (sequences and exclusive work still queued are
    /// cancelled).
    func shutdown() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while !stopped && pending.isEmpty && jobs.isEmpty && active.isEmpty { condition.wait() }
            if stopped {
                let abandoned = pending + active.map(\.sequence), dropped = jobs
                pending.removeAll()
                jobs.removeAll()
                condition.unlock()
                for sequence in abandoned { sequence.complete(.cancelled, device: deviceName) }
                for job in dropped { job.cancel() }
                return
            }
            let work = jobs
            jobs.removeAll()
            var admitted: [(SequenceState, Int)] = []
            while !pending.isEmpty, !free.isEmpty { admitted.append((pending.removeFirst(), free.removeLast())) }
            condition.unlock()

            for job in work { job.run() }
            var running = condition.withLock { active }
            for (sequence, slot) in admitted {
                // Prefill: the prompt in one pass, then the first token is sampled below.
                sequence.startedAt = .now
                if sequence.cancelled.isSet {
                    sequence.prefilledAt = .now
                    end(sequence, slot: slot, .cancelled)
                    continue
                }
                decoder.reset(slot: slot)
                do {
                    sequence.logits = try decoder.prefill(sequence.prompt, slot: slot, logits: .last)
                    sequence.prefilledAt = .now
                    running.append((sequence, slot))
                } catch {
                    end(sequence, slot: slot, error)
                }
            }
            // Sample each sequence's next token (on every core: the device waits meanwhile); those
            // that go on advance together in one pass.
            let outcomes = Self.advanceAll(
                running.map(\.sequence), capacityLeft: running.map { decoder.length(slot: $0.slot) < decoder.capacity })
            var stepping: [(sequence: SequenceState, slot: Int)] = []
            for ((sequence, slot), outcome) in zip(running, outcomes) {
                switch outcome {
                case .success(nil): stepping.append((sequence, slot))
                case .success(let reason?): end(sequence, slot: slot, reason)
                case .failure(let error): end(sequence, slot: slot, error)
                }
            }
            if !stepping.isEmpty {
                do {
                    let logits = try decoder.decode(
                        stepping.map { $0.sequence.history.last! }, slots: stepping.map(\.slot))
                    for (index, entry) in stepping.enumerated() { entry.sequence.logits = logits[index] }
                } catch {
                    for (sequence, slot) in stepping { end(sequence, slot: slot, error) }
                    stepping = []
                }
            }
            condition.withLock { active = stepping }
        }
    }

    /// `advance` for each sequence, spread over the cores (each touches only its own state).
    private static func advanceAll(
        _ sequences: [SequenceState], capacityLeft: [Bool]
    ) -> [Result<FinishReason?, any Error>] {
        var outcomes = [Result<FinishReason?, any Error>](repeating: .success(nil), count: sequences.count)
        outcomes.withUnsafeMutableBufferPointer { results in
            // Iteration i touches only sequences[i] and results[i], and concurrentPerform returns
            // after every iteration: each sequence is still used by one thread at a time.
            nonisolated(unsafe) let results = results, sequences = sequences
            DispatchQueue.concurrentPerform(iterations: sequences.count) { index in
                results[index] = Result { try sequences[index].advance(capacityLeft: capacityLeft[index]) }
            }
        }
        return outcomes
    }

    /// Frees the sequence's slot, then closes its stream: whoever reads the end finds the slot free.
    private func end(_ sequence: SequenceState, slot: Int, _ reason: FinishReason) {
        release(slot)
        sequence.complete(reason, device: deviceName)
    }

    private func end(_ sequence: SequenceState, slot: Int, _ error: any Error) {
        release(slot)
        sequence.finish(error)
    }

    private func release(_ slot: Int) {
        decoder.reset(slot: slot)
        condition.withLock { free.append(slot) }
    }
}

extension NSCondition {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
