/** EC2 tag values hold at most 256 characters. */
export const tagValueLimit = 256;
