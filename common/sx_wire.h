/* sx_wire.h: constants of the answer message layout (PROTOCOL.md, version 3).
 *
 * Phase: any. Constants only; tests pin them to PROTOCOL.md and to the Python client.
 */
#ifndef SX_WIRE_H
#define SX_WIRE_H

#define SX_WIRE_MAGIC "SXAN"
#define SX_WIRE_VERSION 3u
/* The release: one number for the extractors, the wire above and the Python package
 * (pyclient/sandbox_extractor/_wire.py RELEASE, pyproject.toml; pinned by a test). */
#define SX_RELEASE_VERSION "0.3.0"
#define SX_WIRE_HEADER_BYTES 12u

#define SX_WIRE_TYPE_ERROR 1u
#define SX_WIRE_TYPE_META 2u
#define SX_WIRE_TYPE_IMAGE 3u
#define SX_WIRE_TYPE_FRAMES 4u /* version 3: the frames of an animation (--frames N) */

#define SX_WIRE_ERROR_FIXED_BYTES 6u
#define SX_WIRE_IMAGE_FIXED_BYTES 12u
#define SX_WIRE_FRAMES_FIXED_BYTES 20u
#define SX_WIRE_FRAME_HEAD_BYTES 4u

#define SX_WIRE_VTYPE_INT 1u
#define SX_WIRE_VTYPE_FLOAT 2u
#define SX_WIRE_VTYPE_STRING 3u
#define SX_WIRE_VTYPE_BOOL 4u

#define SX_WIRE_LAYOUT_RGB 3u
#define SX_WIRE_LAYOUT_RGBA 4u

/* Exit statuses that must agree with the message type. */
#define SX_EXIT_RESULT 0
#define SX_EXIT_ERROR 1
#define SX_EXIT_NO_ANSWER 3

#endif
