import Foundation

/// Runs the generations of one model: a fixed number of slots, each with its own KV cache, and a
/// bounded FIFO of sequences waiting for one. New sequences join at token boundaries (their
/// prompt runs between two decode steps of the others), and every active sequence advances one
/// token per round, so a long generation never blocks a short one. A finished or cancelled
/// sequence frees its slot at once.
///
/// All forward passes run on the scheduler's thread, one at a time: the model's activations
/// are shared. `exclusive` runs other work (teacher-forced scoring) there too, between rounds.
final class GenerationScheduler: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [SequenceState] = []
    private var jobs: [() -> Void] = []
    private var free: [any DecoderSession]
    private var active: [(sequence: SequenceState, session: any DecoderSession)] = []
    private var stopped = false
    private let makeScratch: () throws -> any DecoderSession
    private var scratch: (any DecoderSession)?
    private let maxWaiting: Int
    private let deviceName: String

    /// `slots` sessions serve generation; `makeScratch` makes the session of `exclusive` work
    /// on first use (a KV cache is large: only pay for it when scoring).
    init(slots: [any DecoderSession], makeScratch: @escaping () throws -> any DecoderSession, maxWaiting: Int, deviceName: String) {
        free = slots
        self.makeScratch = makeScratch
        self.maxWaiting = maxWaiting
        self.deviceName = deviceName
        let thread = Thread { self.run() }  // the thread keeps the scheduler alive until shutdown
        thread.name = "clinfer.scheduler"
        thread.start()
    }

    /// Sequences holding a slot.
    var activeCount: Int { condition.withLock { active.count } }
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

    /// Runs `body` on the scheduler thread with a session of its own, between decode rounds.
    func exclusive<T>(_ body: @escaping (any DecoderSession) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, any Error>?
        condition.withLock {
            jobs.append { [unowned self] in
                result = Result {
                    if scratch == nil { scratch = try makeScratch() }
                    return try body(scratch!)
                }
                done.signal()
            }
            condition.signal()
        }
        done.wait()
        return try result!.get()
    }

    /// Stops the thread after the current round (sequences still queued are cancelled).
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
                let abandoned = pending + active.map(\.sequence)
                pending.removeAll()
                condition.unlock()
                for sequence in abandoned { sequence.complete(.cancelled, device: deviceName) }
                return
            }
            let work = jobs
            jobs.removeAll()
            var admitted: [(SequenceState, any DecoderSession)] = []
            while !pending.isEmpty, !free.isEmpty { admitted.append((pending.removeFirst(), free.removeLast())) }
            condition.unlock()

            for job in work { job() }
            var running = condition.withLock { active }
            for (sequence, session) in admitted {
                // Prefill: the prompt in one pass, then the first token is sampled below.
                sequence.startedAt = .now
                if sequence.cancelled.isSet {
                    sequence.prefilledAt = .now
                    sequence.complete(.cancelled, device: deviceName)
                    release(session)
                    continue
                }
                session.reset()
                do {
                    sequence.logits = try session.forward(sequence.prompt, logits: .last)
                    sequence.prefilledAt = .now
                    running.append((sequence, session))
                } catch {
                    sequence.finish(error)
                    release(session)
                }
            }
            var next: [(sequence: SequenceState, session: any DecoderSession)] = []
            for (sequence, session) in running {
                do {
                    if let reason = try sequence.advance(capacityLeft: session.length < session.capacity) {
                        sequence.complete(reason, device: deviceName)
                        release(session)
                        continue
                    }
                    sequence.logits = try session.forward([sequence.history.last!], logits: .last)
                    next.append((sequence, session))
                } catch {
                    sequence.finish(error)
                    release(session)
                }
            }
            condition.withLock { active = next }
        }
    }

    private func release(_ session: any DecoderSession) {
        session.reset()
        condition.withLock { free.append(session) }
    }
}

extension NSCondition {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
