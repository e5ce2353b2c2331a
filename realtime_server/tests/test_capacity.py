"""Capacity arithmetic and giving memory back, without a server (tests/test_realtime_capacity.py runs one)."""

from realtime_server.capacity import Capacity, MemoryReturner


def test_capacity_keeps_a_reserve_of_five_percent_and_at_least_a_hundred_files():
    assert (Capacity(limit=20_000).clients, Capacity(limit=1024).clients, Capacity(limit=50).clients) == (19_000, 924, 0)


def test_a_full_capacity_refuses_and_counts_clients_even_where_open_files_cannot_be_read():
    capacity = Capacity(limit=10_000, reserve=100)
    assert capacity.admit(connected=10) is True
    assert capacity.admit(connected=9_900) is False


def test_memory_is_given_back_each_time_a_crowd_has_halved():
    memory = MemoryReturner(min_left=500)
    returned = [memory.clients_changed(n) for n in (500, 1500, 2000, 1200, 999, 998, 600, 499, 0, 100)]
    assert returned == [False, False, False, False, True, False, False, True, False, False]
