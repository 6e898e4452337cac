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
/// Sequences submitted together continue one prompt (`n` > 1): they are admitted together, the
/// first is prefilled and the others copy its KV cache and logits, so the prompt runs once. A
/// finished sequence's slot keeps its keys and values (``PromptCache``): a later prompt that
/// starts the same way is placed there and prefills only what differs. The pool may hold more
/// slots than run at once (`activeSlots`); the others are the prompt cache's memory.
///
/// Sendable: the queues (`pending`, `jobs`, `free`, `active`, `stopped`) are guarded by
/// `condition`; the decoders and the sequences' state are touched by the scheduler thread only.
final class GenerationScheduler: @unchecked Sendable {
    private let condition = NSCondition()
    /// Groups waiting for slots, in order; a group's sequences share one prompt.
    private var pending: [[SequenceState]] = []
    /// Work to run between rounds (``exclusive(_:)``): `run` on the scheduler thread, or `cancel`
    /// if the scheduler shuts down first, so whoever waits for it always hears back.
    private var jobs: [(run: () -> Void, cancel: () -> Void)] = []
    private let decoder: any SequenceDecoder
    /// Idle slots (whatever they hold stays reusable until one is taken).
    private var free: [Int]
    private var promptCache: PromptCache
    /// Sequences that run at once at most.
    let activeSlots: Int
    private var active: [(sequence: SequenceState, slot: Int)] = []
    private var stopped = false
    private let makeScratch: () throws -> any SequenceDecoder
    private var scratch: (any SequenceDecoder)?
    private let maxWaiting: Int
    private let deviceName: String
    /// Prompts being prefilled, chunk by chunk (the scheduler thread's own state).
    private var prefilling: [PrefillTask] = []
    /// Prompt tokens prefilled per round at most while other sequences decode, so a long prompt
    /// delays their next token by one chunk, not by the whole prompt.
    let prefillChunk: Int

    /// `decoder`'s slots serve generation, `activeSlots` of them at once (the rest hold cached
    /// prompts); `makeScratch` makes the decoder of `exclusive` work on first use (a KV cache is
    /// large: only pay for it when scoring).
    init(
        decoder: any SequenceDecoder, activeSlots: Int, promptCache: Bool, prefillChunk: Int = 256,
        makeScratch: @escaping () throws -> any SequenceDecoder, maxWaiting: Int
    ) {
        self.decoder = decoder
        self.prefillChunk = max(1, prefillChunk)
        self.activeSlots = min(activeSlots, decoder.slots)
        free = Array(0..<decoder.slots)
        self.promptCache = PromptCache(slots: decoder.slots, enabled: promptCache)
        self.makeScratch = makeScratch
        self.maxWaiting = maxWaiting
        deviceName = decoder.deviceName
        let thread = Thread { self.run() }  // the thread keeps the scheduler alive until shutdown
        thread.name = "clinfer.scheduler"
        thread.start()
    }

    /// Sequences holding a slot.
    var activeCount: Int { condition.withLock { busy } }

    /// Slots taken by running sequences (the lock is held).
    private var busy: Int { decoder.slots - free.count }
    /// Sequences waiting for a slot.
    var waitingCount: Int { condition.withLock { waiting } }

    /// Sequences in `pending` (the lock is held).
    private var waiting: Int { pending.reduce(0) { $0 + $1.count } }

    /// Queues `group` (sequences continuing one prompt, at most ``slots``); throws when the
    /// queue would hold more than the free slots plus `maxWaiting` sequences.
    func submit(_ group: [SequenceState]) throws(GenerationError) {
        guard !group.isEmpty else { return }
        guard group.count <= activeSlots else {
            throw .invalidParameter(
                "\(group.count) sequences of one prompt need as many slots; the model has \(activeSlots)")
        }
        condition.lock()
        defer { condition.unlock() }
        let open = activeSlots - busy
        guard waiting + group.count <= open + maxWaiting else { throw .queueFull(waiting: waiting - open) }
        pending.append(group)
        condition.signal()
    }

    /// Takes `sequence` out of the wait queue and ends it as cancelled, if it is still waiting
    /// (its consumer went away): a cancelled request never holds a place in the queue. A sequence
    /// already running stops at its next token through its cancellation flag instead.
    func withdraw(_ id: ObjectIdentifier) {
        let removed = condition.withLock { () -> SequenceState? in
            guard let group = pending.firstIndex(where: { $0.contains { $0.id == id } }) else { return nil }
            let sequence = pending[group].remove(at: pending[group].firstIndex { $0.id == id }!)
            if pending[group].isEmpty { pending.remove(at: group) }
            return sequence
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
            while !stopped && pending.isEmpty && jobs.isEmpty && active.isEmpty && prefilling.isEmpty {
                condition.wait()
            }
            if stopped {
                let abandoned =
                    pending.flatMap { $0 } + active.map(\.sequence) + prefilling.flatMap { $0.members.map(\.sequence) }
                let dropped = jobs
                prefilling.removeAll()
                pending.removeAll()
                jobs.removeAll()
                condition.unlock()
                for sequence in abandoned { sequence.complete(.cancelled, device: deviceName) }
                for job in dropped { job.cancel() }
                return
            }
            let work = jobs
            jobs.removeAll()
            var admitted: [[Placement]] = []
            while let group = pending.first, busy + group.count <= activeSlots {
                pending.removeFirst()
                // The first sequence goes where its prompt is cached; the others copy from it.
                admitted.append(
                    group.enumerated().map { index, sequence in
                        let (slot, reused) = promptCache.take(from: &free, for: index == 0 ? sequence.prompt : [])
                        return Placement(sequence: sequence, slot: slot, reused: reused)
                    })
            }
            condition.unlock()

            for job in work { job.run() }
            var running = condition.withLock { active }
            prefilling += admitted.compactMap(startPrefill)
            running += prefillRound(decoding: !running.isEmpty)
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

    /// A group's prompt on its way into the first live sequence's slot.
    private struct PrefillTask {
        /// The live sequences; the first one's slot receives the prompt.
        var members: [Placement]
        /// Prompt positions its slot holds so far.
        var done: Int
        /// Forward passes so far.
        var passes = 0
        var prompt: [Int] { members[0].sequence.prompt }
    }

    /// Starts a group's prefill: ends the sequences cancelled while they waited and places the
    /// prompt after what the first one's slot has cached. Nil when none is left.
    private func startPrefill(_ group: [Placement]) -> PrefillTask? {
        var live: [Placement] = []
        for placement in group {
            placement.sequence.startedAt = .now
            if placement.sequence.cancelled.isSet {
                placement.sequence.prefilledAt = .now
                end(placement.sequence, slot: placement.slot, .cancelled)
            } else {
                live.append(placement)
            }
        }
        guard let first = live.first else { return nil }
        // Only the cached slot's first sequence reuses positions; the others copy its prompt.
        let reused = group.first?.sequence === first.sequence ? first.reused : 0
        decoder.truncate(slot: first.slot, to: reused)
        first.sequence.cachedPromptTokens = reused
        return PrefillTask(members: live, done: reused)
    }

    /// Runs one round's prefill chunks, oldest prompt first: everything when nothing else is
    /// decoding, else at most ``prefillChunk`` tokens. The chunks of several prompts run as one
    /// batched pass (one prompt alone takes the single-sequence path). Returns the sequences whose
    /// prompt is complete (the first token is sampled next); the others continue next round.
    private func prefillRound(decoding: Bool) -> [(sequence: SequenceState, slot: Int)] {
        // Nothing else waiting on this round: whole prompts, up to 4096 rows in one pass.
        var budget = decoding ? prefillChunk : max(prefillChunk, 4096)
        var scheduled: [(task: PrefillTask, count: Int)] = [], waiting: [PrefillTask] = []
        for var task in prefilling {
            let leaderSlot = task.members[0].slot
            task.members.removeAll { placement in
                guard placement.sequence.cancelled.isSet else { return false }
                // The first slot holds a prefix of the prompt, worth keeping; the others nothing.
                placement.sequence.wroteCache = placement.slot == leaderSlot
                placement.sequence.prefilledAt = .now
                end(placement.sequence, slot: placement.slot, .cancelled)
                return true
            }
            guard let leader = task.members.first else { continue }
            if leader.slot != leaderSlot {
                // The first sequence left with the prompt's positions: start over in the next one.
                decoder.reset(slot: leader.slot)
                task.done = 0
            }
            guard budget > 0 else {
                waiting.append(task)
                continue
            }
            let count = min(task.prompt.count - task.done, budget)
            budget -= count
            scheduled.append((task, count))
        }
        var finished: [(sequence: SequenceState, slot: Int)] = []
        guard !scheduled.isEmpty else {
            prefilling = waiting
            return finished
        }
        let runs = scheduled.map {
            (tokens: Array($0.task.prompt[$0.task.done..<$0.task.done + $0.count]), slot: $0.task.members[0].slot)
        }
        do {
            let logits =
                runs.count == 1
                ? [try decoder.prefill(runs[0].tokens, slot: runs[0].slot, logits: .last)]
                : try decoder.prefill(runs)
            for ((task, count), logits) in zip(scheduled, logits) {
                var task = task
                task.done += count
                task.passes += 1
                task.members[0].sequence.wroteCache = true
                if task.done == task.prompt.count {
                    do {
                        finished += try complete(task, logits: logits)
                    } catch {
                        for placement in task.members { end(placement.sequence, slot: placement.slot, error) }
                    }
                } else {
                    waiting.append(task)
                }
            }
        } catch {
            for (task, _) in scheduled {
                for placement in task.members { end(placement.sequence, slot: placement.slot, error) }
            }
        }
        prefilling = waiting
        return finished
    }

    /// A prompt is in: copies its keys and values from the first slot to the others' and gives
    /// every sequence its logits.
    private func complete(_ task: PrefillTask, logits: [Float]) throws -> [(sequence: SequenceState, slot: Int)] {
        let first = task.members[0]
        for placement in task.members {
            if placement.slot != first.slot {
                decoder.reset(slot: placement.slot)
                try decoder.copyPrefix(task.prompt.count, from: first.slot, to: placement.slot)
            }
            placement.sequence.logits = logits
            placement.sequence.promptPasses = task.passes
            placement.sequence.wroteCache = true
            placement.sequence.prefilledAt = .now
        }
        return task.members.map { ($0.sequence, $0.slot) }
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

    /// Frees the sequence's slot, keeping what it holds for later prompts, then closes its
    /// stream: whoever reads the end finds the slot free.
    private func end(_ sequence: SequenceState, slot: Int, _ reason: FinishReason) {
        let held = sequence.wroteCache ? Array(sequence.history.prefix(decoder.length(slot: slot))) : nil
        release(slot, holding: held)
        sequence.complete(reason, device: deviceName)
    }

    private func end(_ sequence: SequenceState, slot: Int, _ error: any Error) {
        release(slot, holding: nil)
        sequence.finish(error)
    }

    /// Returns `slot` to the idle ones; `held` is what its cache holds (nil: forget it).
    private func release(_ slot: Int, holding held: [Int]?) {
        if held == nil { decoder.reset(slot: slot) }
        condition.withLock {
            promptCache.release(slot, holding: held)
            free.append(slot)
        }
    }

    /// Where an admitted sequence runs, and how many of its prompt's positions the slot holds.
    private struct Placement {
        let sequence: SequenceState
        let slot: Int
        let reused: Int
    }
}

extension NSCondition {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
