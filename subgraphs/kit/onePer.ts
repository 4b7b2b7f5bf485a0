/**
 * The value `values` holds for `owner`, made by `make` the first time it is asked for: one group
 * commit per store, one request-principal memo per access control. Weakly held, so a store or an
 * access control that is dropped takes its value with it.
 */
export function onePer<Owner extends object, Value>(values: WeakMap<Owner, Value>, owner: Owner, make: (owner: Owner) => Value): Value {
  let value = values.get(owner);
  if (value === undefined) {
    value = make(owner);
    values.set(owner, value);
  }
  return value;
}
