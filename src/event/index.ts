export { eventOf, header, readEvent, tag } from "./model";
export type * from "./types";
