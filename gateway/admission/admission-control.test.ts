import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createAdmissionControl } from "./admission-control.js";

describe("admission control", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("admits up to maxInFlight requests, refuses the next until one is released", () => {
    const control = createAdmissionControl({ maxInFlight: 2, maxEventLoopDelayMs: 0 });
    expect(control.tryAdmit()).toBeUndefined();
    expect(control.tryAdmit()).toBeUndefined();
    expect(control.tryAdmit()).toBe("in_flight");
    expect(control.inFlight).toBe(2);
    control.release();
    expect(control.inFlight).toBe(1);
    expect(control.tryAdmit()).toBeUndefined();
    expect(control.tryAdmit()).toBe("in_flight");
    control.release();
    control.release();
    control.release();
    expect(control.inFlight).toBe(0);
  });

  it("refuses everything from the second window in a row over the event-loop delay limit, and recovers", () => {
    const delays = [5, 80, 5, 80, 80, 70, 20];
    const changes: boolean[] = [];
    const control = createAdmissionControl({
      maxInFlight: 100,
      maxEventLoopDelayMs: 50,
      sampleIntervalMs: 100,
      eventLoopDelayMs: () => delays.shift() ?? 0,
      onPressureChange: (underPressure) => changes.push(underPressure),
    });
    vi.advanceTimersByTime(100);
    expect(control.underPressure).toBe(false);
    expect(control.tryAdmit()).toBeUndefined();
    // One window over the limit (a single long task) refuses nothing.
    vi.advanceTimersByTime(100);
    expect(control.tryAdmit()).toBeUndefined();
    control.release();
    vi.advanceTimersByTime(200);
    expect(control.underPressure).toBe(false);

    vi.advanceTimersByTime(100);
    expect(control.underPressure).toBe(true);
    expect(control.tryAdmit()).toBe("event_loop_delay");
    vi.advanceTimersByTime(100);
    expect(control.tryAdmit()).toBe("event_loop_delay");
    // Refusals are not counted in flight.
    expect(control.inFlight).toBe(1);

    vi.advanceTimersByTime(100);
    expect(control.underPressure).toBe(false);
    expect(control.tryAdmit()).toBeUndefined();
    expect(changes).toEqual([true, false]);

    control.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never samples when the event-loop check is off", () => {
    const read = vi.fn(() => 1000);
    const control = createAdmissionControl({ maxInFlight: 1, maxEventLoopDelayMs: 0, eventLoopDelayMs: read });
    vi.advanceTimersByTime(1000);
    expect(read).not.toHaveBeenCalled();
    expect(control.tryAdmit()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    control.close();
  });

  it("closing stops sampling and lifts the pressure", () => {
    const control = createAdmissionControl({
      maxInFlight: 1,
      maxEventLoopDelayMs: 10,
      eventLoopDelayMs: () => 1000,
    });
    vi.advanceTimersByTime(200);
    expect(control.tryAdmit()).toBe("event_loop_delay");
    control.close();
    expect(control.tryAdmit()).toBeUndefined();
  });
});
