/**
 * A guard for the codes of a labels map (`{ nhs_trust: 'NHS trust', … }`): true for a string that is one of its keys,
 * so a value from a form, a query or a stored row can be narrowed to the code type before it is used.
 */
export const isCodeOf =
  <Labels extends object>(labels: Labels) =>
  (value: unknown): value is keyof Labels & string =>
    typeof value === 'string' && Object.hasOwn(labels, value);
