/**
 * A confirmation for actions that change the registry: the browser's modal <dialog> (focus stays
 * inside, Escape cancels, the page behind is inert), with the action's own form fields inside, a
 * confirm button that shows progress, and the server's error if the action fails.
 */
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { ErrorNotice } from "./error-notice.js";

/** Props of {@link ConfirmDialog}. */
export interface ConfirmDialogProps {
  readonly open: boolean;
  readonly title: string;
  /** What will happen, and any fields the action needs. */
  readonly children: ReactNode;
  readonly confirmLabel: string;
  /** Runs the action; the dialog closes when it resolves and shows the error when it rejects. */
  readonly onConfirm: () => Promise<unknown>;
  readonly onClose: () => void;
  /** A reason the action cannot be confirmed yet (e.g. an empty field), shown beside the button. */
  readonly invalid?: string | undefined;
}

/** A modal confirmation dialog. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const { open, onClose } = props;

  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) {
      setError(undefined);
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (props.invalid !== undefined) return;
    setPending(true);
    setError(undefined);
    try {
      await props.onConfirm();
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose} className="dialog">
      <form onSubmit={submit}>
        <h2 id={titleId}>{props.title}</h2>
        <div className="dialog-body">{props.children}</div>
        {error === undefined ? null : <ErrorNotice error={error} />}
        {props.invalid === undefined ? null : <p className="hint">{props.invalid}</p>}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={pending || props.invalid !== undefined}>
            {pending ? "Working…" : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
