"""The queue's domain errors, each with its message in Bahasa Indonesia and English."""

from __future__ import annotations

from engine.errors import CaseConflict, InvalidInput, NotAllowed, NotFound


class TicketNotFound(NotFound):
    """No ticket has this number or address (or it is not today's)."""

    def __init__(self) -> None:
        super().__init__("no such ticket", message_id="tiket tidak ditemukan")


class CounterNotFound(NotFound):
    """No active counter has this id."""

    def __init__(self) -> None:
        super().__init__("no such counter", message_id="loket tidak ditemukan")


class BookingNotFound(NotFound):
    """No booking has this code (or it is not the actor's)."""

    def __init__(self) -> None:
        super().__init__("no booking with this code", message_id="tidak ada booking dengan kode ini")


class NotYourCounter(NotAllowed):
    """The actor holds no role of the counter's agency."""

    def __init__(self) -> None:
        super().__init__("only officers of this counter's agency may work at it",
                         message_id="hanya petugas instansi loket ini yang dapat melayani di loket ini")


class TicketTaken(CaseConflict):
    """Another counter called the ticket first (or it is no longer waiting)."""

    def __init__(self, number: str) -> None:
        super().__init__(f"ticket {number} is no longer waiting: another counter called it",
                         message_id=f"tiket {number} sudah tidak menunggu: loket lain sudah memanggilnya")


class CounterBusy(CaseConflict):
    """The counter is serving a ticket; finish it (done, no-show or transfer) before calling the next."""

    def __init__(self, number: str) -> None:
        super().__init__(f"this counter is still serving ticket {number}: mark it done, no-show or transfer it first",
                         message_id=f"loket ini masih melayani tiket {number}: tandai selesai, tidak hadir, "
                                    "atau alihkan dulu")


class NoTicketAtCounter(CaseConflict):
    """The counter has no ticket to act on."""

    def __init__(self) -> None:
        super().__init__("this counter has no ticket now: call the next one first",
                         message_id="loket ini sedang tidak memegang tiket: panggil berikutnya dulu")


class SlotFull(CaseConflict):
    """Every place of the chosen visit slot is booked."""

    def __init__(self, label: str) -> None:
        super().__init__(f"the {label} slot is full; choose another time",
                         message_id=f"slot pukul {label} sudah penuh; pilih waktu lain")


class QueueInputInvalid(InvalidInput):
    """A queue request that cannot be met: an unknown agency or service, a closed day, a wrong slot."""

    def __init__(self, message_id: str, message_en: str) -> None:
        super().__init__(message_en, message_id=message_id)
