/**
 * The players. An agent plays one role from a View of the run: as submitter it posts the hashes
 * its view gives at the split points, reveals its boundary and end state, and proves the last
 * step; as challenger it picks the first sub-interval whose end disagrees with its view (the
 * start then agrees), which keeps "agreed start, disputed end" true all the way down to one step.
 * An honest agent (HonestView, no strategy) therefore always wins. Strategies make agents
 * dishonest for fault injection: lie at one bisection round, answer at random (inconsistent
 * answers), or stop moving (stall) at a given move.
 */
import type { Hash } from "../vm/index.js";
import { claimFromBoundary, sameClaim, sameHash, trapClaim, type Claim, type ModelRecord } from "./claim.js";
import { splitPoints, type Game, type Move, type Role } from "./referee.js";
import { altered, type View } from "./view.js";

export interface Strategy {
  /** At this bisection round (1-based) post altered hashes (submitter) or pick a wrong sub-interval (challenger). */
  lieAtRound?: number;
  /** Answer at random: each posted hash altered with probability 1/2, or a random sub-interval (a seeded [0,1) source). */
  random?: () => number;
  /** Make no move from this own move on (1 = never move). */
  stallAtMove?: number;
}

export function isDishonestStrategy(s: Strategy): boolean {
  return s.lieAtRound !== undefined || s.random !== undefined || s.stallAtMove !== undefined;
}

export class Agent {
  private moves = 0;

  constructor(readonly role: Role, readonly view: View, readonly strategy: Strategy = {}) {}

  /** The hash this agent holds at position p of the game's current phase. */
  private hashAt(g: Game, p: number): Hash {
    return g.phase === "ops" ? this.view.boundaryHash(p) : this.view.stateHash(g.segment, p);
  }

  /** The claim this agent's view makes about the run: its result, or that it traps. */
  claim(model: ModelRecord): Claim {
    const trapped = this.view.trappedAt(this.view.segments);
    return trapped ? trapClaim(model, trapped) : claimFromBoundary(model, this.view.boundary(this.view.segments));
  }

  /**
   * Whether this agent, seeing a claim, challenges it: when any field differs from its own claim
   * (not only the final boundary: a claim whose other fields are made up must not stand).
   */
  wantsToChallenge(claim: Claim, model: ModelRecord): boolean {
    return !sameClaim(this.claim(model), claim) || isDishonestStrategy(this.strategy);
  }

  /** The agent's move in the game (undefined: it does not move). */
  act(g: Game, expected: Move["kind"], degree: number): Move | undefined {
    this.moves += 1;
    const s = this.strategy;
    if (s.stallAtMove !== undefined && this.moves >= s.stallAtMove) return undefined;
    const points = g.phase === "ops" || g.phase === "steps" ? splitPoints(g.lo, g.hi, degree) : [];
    switch (expected) {
      case "bisect": {
        const lie = s.lieAtRound === g.rounds + 1;
        const hashes = points.slice(1, -1).map((p, i) => {
          const h = this.hashAt(g, p);
          if (lie) return altered(h, `round ${g.rounds + 1}`);
          return s.random && s.random() < 0.5 ? altered(h, `random ${g.rounds} ${i}`) : h;
        });
        return { kind: "bisect", hashes };
      }
      case "choose": {
        const parts = points.length - 1;
        const posted = g.posted!;
        let index = parts - 1;
        for (let i = 1; i <= parts; i++) {
          if (!sameHash(posted[i], this.hashAt(g, points[i]))) {
            index = i - 1;
            break;
          }
        }
        if (s.random) index = Math.floor(s.random() * parts);
        else if (s.lieAtRound === g.rounds && parts > 1) index = (index + 1) % parts;
        return { kind: "choose", index };
      }
      case "reveal": {
        const trapped = this.view.trappedAt(g.lo);
        if (trapped) return { kind: "trapped", state: trapped };
        return { kind: "reveal", boundary: this.view.boundary(g.lo), final: this.view.finalState(g.lo) };
      }
      case "prove":
        return { kind: "prove", proof: this.view.proof(g.segment, g.lo) };
    }
  }
}
