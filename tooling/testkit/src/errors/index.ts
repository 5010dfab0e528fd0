export { codeOf, rejectionOf } from "./error-code.ts";
