/** The §(五) models for people who need a visit: elderly living alone (独居老人) and children in distress (困境儿童). */

export const ELDERLY_AGE = 65;
export const ADULT_AGE = 18;

/** 65 or older and the only member of their household. */
export function isElderlyLivingAlone(age: number, householdSize: number): boolean {
  return age >= ELDERLY_AGE && householdSize === 1;
}

export type GuardianStatus = 'ALIVE' | 'DECEASED' | 'MISSING';

/**
 * A minor none of whose guardians is alive and present. A minor with no guardian registered at
 * all counts too: nobody is known to care for them.
 */
export function isChildInDistress(input: { age: number; guardians: readonly { status: GuardianStatus }[] }): boolean {
  return input.age < ADULT_AGE && input.guardians.every((g) => g.status !== 'ALIVE');
}
