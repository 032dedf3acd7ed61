/** A value that follows another after it stopped changing for `ms` (search boxes query once typing pauses). */
import { useEffect, useState } from "react";

/** `value`, `ms` milliseconds after its last change. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
