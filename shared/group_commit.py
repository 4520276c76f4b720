"""Group commit of upstream events: what this process's inbox workers have handled at the
same moment is recorded in one transaction, each with its own tracking row (issue 14).

Exactly once still holds: every upstream position is tracked in the same transaction as
the events it caused. Nothing else changes for a worker: it waits for its own result.
If the group meets a conflict (two workers wrote the same aggregate, or the same message
came twice), nothing of it is recorded and each worker records its own events alone, as
before, so the conflict is resolved per message by ServiceApplication.process_upstream.

Runs under nameko's green threads (eventlet), where no other worker runs between two
statements without I/O: the list and the flag need no lock. Off by default (tests that call
process_upstream directly record alone); the running service turns it on.
"""
import eventlet
from eventlet.event import Event
from eventsourcing.persistence import IntegrityError, Notification, Recording

# Enough to cover nameko's workers and then some; one transaction stays small.
MAX_GROUP = 200


class _Entry:
    def __init__(self, processing_event):
        self.processing_event = processing_event
        self.done = Event()
        self.recordings = None
        self.error = None
        self.alone = False


class GroupCommit:
    def __init__(self, app):
        self.app = app
        self.waiting = []
        self.flushing = False
        self.groups = self.grouped = 0  # for tests and the benchmark

    def record(self, processing_event):
        """The recordings of `processing_event`, committed with whatever else is
        waiting; raises IntegrityError as ServiceApplication._record would."""
        entry = _Entry(processing_event)
        self.waiting.append(entry)
        if not self.flushing:
            self.flushing = True
            try:
                # One turn of the hub: the workers handling messages now join the group.
                eventlet.sleep(0)
                while self.waiting:
                    group = self.waiting[:MAX_GROUP]
                    del self.waiting[:MAX_GROUP]
                    self._flush(group)
            finally:
                self.flushing = False
        entry.done.wait()
        if entry.alone:
            return self.app._record_alone(processing_event)
        if entry.error is not None:
            raise entry.error
        return entry.recordings

    def _flush(self, group):
        try:
            if len(group) == 1:
                group[0].alone = True
                return
            try:
                for entry, recordings in zip(group, self._record_together(group)):
                    entry.recordings = recordings
                self.groups += 1
                self.grouped += len(group)
            except IntegrityError:
                for entry in group:
                    entry.alone = True
            except Exception as exc:
                for entry in group:
                    entry.error = exc
        finally:
            for entry in group:
                entry.done.send()

    def _record_together(self, group):
        app, recorder = self.app, self.app.recorder
        stored = []
        for entry in group:
            entry.domain_events = list(entry.processing_event.events)
            entry.stored = [app.mapper.to_stored_event(e) for e in entry.domain_events]
            stored += entry.stored
        with recorder.datastore.get_connection() as conn:
            recorder._prepare_insert_events(conn)
            with conn.transaction(commit=True) as cur:
                ids = recorder._insert_events(cur, stored) if stored else []
                trackings = [(e.processing_event.tracking.application_name,
                              e.processing_event.tracking.notification_id) for e in group]
                values = ", ".join(["(%s, %s)"] * len(trackings))
                cur.execute(f"INSERT INTO {recorder.tracking_table_name} VALUES {values}",
                            [v for pair in trackings for v in pair])
        results, k = [], 0
        for entry in group:
            recordings = []
            for domain_event, s in zip(entry.domain_events, entry.stored):
                recordings.append(Recording(domain_event, Notification(
                    originator_id=s.originator_id, originator_version=s.originator_version,
                    topic=s.topic, state=s.state, id=ids[k])))
                k += 1
            results.append(recordings)
        return results

