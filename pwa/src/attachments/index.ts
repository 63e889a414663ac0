// Attachments on the device: the offline queue, its uploader and its auto-runner.
export { AttachmentQueue, UploadError, addAttachment, attachmentEventDoc, defaultName, sha256Hex } from "./queue";
export type { AddAttachment, QueueOptions, UploadFn, WriteEventFn } from "./queue";
export { createUploader, errorFor } from "./upload";
export type { ApiFetch, UploaderOptions } from "./upload";
export { startAutoUpload } from "./auto";
export type { AutoUploadOptions } from "./auto";
export { retryDelay, summarize, DEFAULT_BACKOFF } from "./state";
export type { QueueItem, Status, StoredAttachment, Summary } from "./state";
