// PriorityGate: never more than `capacity` admitted; when full, higher priority first and FIFO
// within a priority; waiters time out with a 503 and leave on abort without taking a slot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PriorityGate } from '../../gateway/src/priority-gate.js';
import { ApiError } from '../../gateway/src/errors.js';

test('never more than capacity in flight, under a burst of concurrent work', async () => {
  const gate = new PriorityGate(3);
  let running = 0;
  let max = 0;
  const work = async (i: number) => {
    const release = await gate.acquire(i % 4, 10_000);
    running++;
    max = Math.max(max, running);
    assert.ok(gate.active <= 3);
    await sleep(1 + (i % 3));
    running--;
    release();
  };
  await Promise.all(Array.from({ length: 60 }, (_, i) => work(i)));
  assert.equal(max, 3);
  assert.equal(gate.active, 0);
  assert.equal(gate.queued, 0);
});

test('when full, higher priority is admitted first, arrival order within a priority', async () => {
  const gate = new PriorityGate(1);
  const hold = await gate.acquire(0, 1000);
  const order: string[] = [];
  const wait = (label: string, prio: number) => gate.acquire(prio, 10_000).then((release) => {
    order.push(label);
    release();
  });
  const all = [wait('free-1', 0), wait('team-1', 50), wait('dev-1', 20), wait('free-2', 0), wait('team-2', 50), wait('ent-1', 90), wait('dev-2', 20)];
  assert.equal(gate.queued, 7);
  assert.equal(gate.active, 1);
  hold();
  await Promise.all(all);
  assert.deepEqual(order, ['ent-1', 'team-1', 'team-2', 'dev-1', 'dev-2', 'free-1', 'free-2']);
});

test('a newcomer does not jump ahead of waiters even when a slot frees at that moment', async () => {
  const gate = new PriorityGate(1);
  const hold = await gate.acquire(0, 1000);
  const order: string[] = [];
  const waiting = gate.acquire(0, 10_000).then((r) => { order.push('waiter'); return r; });
  hold();
  const late = gate.acquire(0, 10_000).then((r) => { order.push('late'); r(); });
  (await waiting)();
  await late;
  assert.deepEqual(order, ['waiter', 'late']);
});

test('a waiter that gets no slot in time is refused with a 503 and Retry-After; the queue forgets it', async () => {
  const gate = new PriorityGate(1);
  const hold = await gate.acquire(0, 1000);
  const t0 = performance.now();
  await assert.rejects(gate.acquire(10, 150), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.statusCode, 503);
    assert.match(e.message, /at capacity/);
    assert.equal(e.headers['retry-after'], '5');
    return true;
  });
  const waited = performance.now() - t0;
  assert.ok(waited >= 140 && waited < 1000, `waited ${waited} ms`);
  assert.equal(gate.queued, 0);
  hold();
  assert.equal(gate.active, 0, 'the timed-out waiter did not take the freed slot');
});

test('aborting a queued waiter rejects it at once (499) and it never holds a slot', async () => {
  const gate = new PriorityGate(1);
  const hold = await gate.acquire(0, 1000);
  const ac = new AbortController();
  const pending = gate.acquire(50, 10_000, ac.signal);
  const other = gate.acquire(0, 10_000);
  assert.equal(gate.queued, 2);
  ac.abort();
  await assert.rejects(pending, (e: unknown) => e instanceof ApiError && e.statusCode === 499);
  assert.equal(gate.queued, 1);
  hold();
  const release = await other;
  assert.equal(gate.active, 1);
  release();
  assert.equal(gate.active, 0);
});

test('a release function counts once however often it is called', async () => {
  const gate = new PriorityGate(2);
  const a = await gate.acquire(0, 1000);
  const b = await gate.acquire(0, 1000);
  a();
  a();
  a();
  assert.equal(gate.active, 1);
  const c = await gate.acquire(0, 1000);
  assert.equal(gate.active, 2);
  b();
  c();
  assert.equal(gate.active, 0);
});

test('a waiter whose signal is already aborted is refused at once instead of waiting out its timeout', async () => {
  const gate = new PriorityGate(1);
  const hold = await gate.acquire(0, 1000);
  const ac = new AbortController();
  ac.abort();
  const t0 = performance.now();
  await assert.rejects(gate.acquire(0, 5000, ac.signal), (e: unknown) => e instanceof ApiError && e.statusCode === 499);
  assert.ok(performance.now() - t0 < 100);
  assert.equal(gate.queued, 0);
  hold();
});
